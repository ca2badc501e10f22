// The gateway's rate limits (functions/_shared/rate-limit.ts) applied to requests. Whom a request counts for:
// the user of a valid session or the access key of a valid key, else the client address — so unauthenticated routes (dev login, the OpenAPI
// document, unknown paths) and requests with a bad token (401s, which token guessing produces) are limited per
// address. Every counted request also counts against the global limit. /api/health and /api/ready are not
// limited: probes must never be throttled into looking down, and neither costs more than the check would
// (readiness is cached). The answers carry RateLimit-* headers; a refusal is a 429 with Retry-After.
import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimiter, RateLimitVerdict } from '../../_shared/rate-limit.ts';
import { errorResponse, principalOf, type GatewayEnv } from './context.ts';

const UNLIMITED_PATHS = new Set(['/api/health', '/api/ready']);
/** At most one "store unavailable" warning per this interval: an outage must not flood the log. */
const WARNING_INTERVAL_MS = 30_000;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f:]+$/i;

/** An IPv6 address's /64 network (what one subscriber controls), e.g. 2001:db8:1:2::; null if not IPv6. */
export function ipv6Network(address: string): string | null {
  if (!address.includes(':') || !IPV6.test(address) || address.split('::').length > 2) return null;
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  if (groups.length !== 8 || groups.some((group) => group.length === 0 || group.length > 4)) return null;
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/** A client address as a rate-limit key: IPv4 as is, IPv6 by its /64; null if it is not an address. */
export function addressKey(value: string): string | null {
  const address = value.trim().replace(/^\[|\]$/g, '');
  if (IPV4.test(address)) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  return mapped ?? ipv6Network(address);
}

/**
 * The client's address. A header a client can write is believed only when TRUSTED_PROXY_HEADER says the
 * proxy in front of the gateway sets it: `cf-connecting-ip` (Cloudflare, in front of Supabase's functions,
 * overwrites whatever a client sends), `x-real-ip` (an nginx-style proxy that replaces it), or
 * `x-forwarded-for`, of which only the LAST entry is the proxy's own (the ones before it are the client's
 * word). Otherwise — and when the trusted header is missing — the TCP peer (Deno.serve passes it as the
 * handler's second argument; @hono/node-server as `incoming`). So rotating spoofed addresses buys no fresh budget.
 */
export function clientAddress(c: Context<GatewayEnv>): string {
  const trusted = c.var.deps.config.TRUSTED_PROXY_HEADER;
  if (trusted !== 'none') {
    const entries = c.req.header(trusted)?.split(',');
    const value = trusted === 'x-forwarded-for' ? entries?.at(-1) : entries?.[0];
    const key = value ? addressKey(value) : null;
    if (key) return key;
  }
  const env = c.env as { remoteAddr?: { hostname?: string }; incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const peer = env?.remoteAddr?.hostname ?? env?.incoming?.socket?.remoteAddress;
  return (peer && addressKey(peer)) || 'unknown';
}

/** Whom the request counts for: `user:<id>` for a valid session, `key:<id>` for a valid access key, else `ip:<address>`. */
async function callerKey(c: Context<GatewayEnv>): Promise<string> {
  if (c.req.header('authorization')) {
    try {
      // authenticated once per request: the route's PEP reuses this answer
      const principal = await principalOf(c);
      return principal.kind === 'key' ? `key:${principal.keyId}` : `user:${principal.id}`;
    } catch {
      // not a valid credential: counted by address here; the route answers the 401
    }
  }
  return `ip:${clientAddress(c)}`;
}

function setRateLimitHeaders(c: Context, verdict: Extract<RateLimitVerdict, { limit: number }>): number {
  const resetSeconds = Math.max(1, Math.ceil((verdict.resetAt - Date.now()) / 1000));
  // draft-ietf-httpapi-ratelimit-headers: limit, what is left of it, seconds until the window moves on
  c.header('RateLimit-Limit', String(verdict.limit));
  c.header('RateLimit-Remaining', String(verdict.remaining));
  c.header('RateLimit-Reset', String(resetSeconds));
  c.header('RateLimit-Policy', `${verdict.limit};w=${Math.round(verdict.windowMs / 1000)}`);
  return resetSeconds;
}

/** Counts each request against its caller's limit and the global one; null limiter: no limits (local without Redis). */
export function rateLimit(limiter: RateLimiter | null): MiddlewareHandler<GatewayEnv> {
  let lastWarning = 0;
  let unwarned = 0;
  return async (c, next) => {
    if (!limiter || UNLIMITED_PATHS.has(c.req.path)) return next();
    const verdict = await limiter.check(await callerKey(c));
    if (verdict.outcome === 'unavailable') {
      unwarned += 1;
      if (Date.now() - lastWarning >= WARNING_INTERVAL_MS) {
        (c.var.logger ?? c.var.deps.logger).warn('rate limits not enforced: the store is unavailable', {
          error: verdict.error,
          policy: limiter.failClosed ? 'fail closed (503)' : 'fail open (let through)',
          requests_since_last_warning: unwarned,
        });
        lastWarning = Date.now();
        unwarned = 0;
      }
      if (limiter.failClosed) {
        c.header('Retry-After', '5');
        return errorResponse(
          c,
          503,
          'rate_limit_unavailable',
          'The API cannot check its rate limits right now, so it refuses requests; retry shortly.',
        );
      }
      return next();
    }
    if (verdict.outcome === 'limited') {
      const retryAfter = setRateLimitHeaders(c, verdict);
      c.header('Retry-After', String(retryAfter));
      return verdict.scope === 'global'
        ? errorResponse(
            c,
            429,
            'rate_limited_global',
            `The API is receiving more requests than it accepts from everyone together; retry in ${retryAfter} s.`,
          )
        : errorResponse(
            c,
            429,
            'rate_limited_key',
            `You sent more than ${verdict.limit} requests in ${Math.round(verdict.windowMs / 1000)} s; retry in ${retryAfter} s.`,
          );
    }
    await next();
    setRateLimitHeaders(c, verdict);
  };
}

// Rate limits of the gateway: a sliding window per caller (user id, else client address) and one across all
// callers, both counted by @upstash/ratelimit in Redis so every gateway instance shares them. In the cloud
// the counters live in Upstash (REST); locally, in CI and self-hosted in a plain Redis reached over TCP with
// ioredis, through an adapter exposing the only two commands the library's single-region limiters call:
// `evalsha` and, when the script is not cached yet, `eval` (see upstash/ratelimit-js issues 81 and 115).
// Clients and the library are imported on first use, so a cold start does not pay for them.
import type { Ratelimit } from '@upstash/ratelimit';
import type { Config } from './config.ts';

/** What @upstash/ratelimit calls on its `redis` (single region, no analytics, no deny lists), plus ping/close. */
export interface RateLimitStore {
  evalsha(sha: string, keys: string[], args: unknown[]): Promise<unknown>;
  eval(script: string, keys: string[], args: unknown[]): Promise<unknown>;
  /** One round trip to the store; rejects if it cannot be reached (readiness uses it). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type RateLimitScope = 'global' | 'key';

export type RateLimitVerdict =
  /** Within both limits; the numbers are the caller's own (what RateLimit-* headers report). */
  | { outcome: 'allowed'; limit: number; remaining: number; resetAt: number; windowMs: number }
  | { outcome: 'limited'; scope: RateLimitScope; limit: number; remaining: 0; resetAt: number; windowMs: number }
  /** The store did not answer in time or failed: the caller's policy (failClosed) decides. */
  | { outcome: 'unavailable'; error: unknown };

export interface RateLimiter {
  /** Whether a request is refused (503) or let through when the store is unavailable. */
  readonly failClosed: boolean;
  /** Counts one request of `key` against its own limit and, if that allows it, against the global one. */
  check(key: string): Promise<RateLimitVerdict>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  store: RateLimitStore;
  /** Requests per window across all callers. */
  globalLimit: number;
  /** Requests per window per caller. */
  perKeyLimit: number;
  /** Default one minute: RATE_LIMIT_* are requests per minute. */
  windowMs?: number;
  /** Prefix of every Redis key the limiter writes. */
  prefix: string;
  failClosed?: boolean;
  /** How long a check may take before it counts as unavailable (default 1 s). */
  timeoutMs?: number;
}

const MINUTE_MS = 60_000;
const STORE_TIMEOUT_MS = 1000;
/** Callers remembered as blocked until their window resets (answered without Redis); bounded for memory. */
const BLOCKED_CACHE_SIZE = 10_000;

/** A Map that forgets its oldest entries beyond `capacity` (Maps iterate in insertion order). */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`the rate-limit store did not answer within ${ms} ms`);
    this.name = 'StoreTimeout';
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const windowMs = options.windowMs ?? MINUTE_MS;
  const timeoutMs = options.timeoutMs ?? STORE_TIMEOUT_MS;
  let limiters: Promise<{ perKey: Ratelimit; global: Ratelimit }> | undefined;
  const load = async () => {
    const { Ratelimit } = await import('@upstash/ratelimit');
    const limiter = (limit: number, scope: RateLimitScope) =>
      new Ratelimit({
        redis: options.store as unknown as ConstructorParameters<typeof Ratelimit>[0]['redis'],
        limiter: Ratelimit.slidingWindow(limit, `${windowMs} ms`),
        prefix: `${options.prefix}:${scope}`,
        ephemeralCache: new BoundedMap<string, number>(BLOCKED_CACHE_SIZE),
        timeout: 0, // ours below: the library's own lets the request through on timeout, whatever our policy
        analytics: false,
        enableTelemetry: false,
      });
    return { perKey: limiter(options.perKeyLimit, 'key'), global: limiter(options.globalLimit, 'global') };
  };

  return {
    failClosed: options.failClosed ?? false,
    async check(key) {
      try {
        return await withTimeout(
          (async (): Promise<RateLimitVerdict> => {
            const { perKey, global } = await (limiters ??= load());
            // the caller's own limit first: a caller over it is refused without spending the global budget, so
            // one client hammering the API cannot use up everyone's share
            const own = await perKey.limit(key);
            if (!own.success) return { outcome: 'limited', scope: 'key', limit: own.limit, remaining: 0, resetAt: own.reset, windowMs };
            const all = await global.limit('all');
            if (!all.success) return { outcome: 'limited', scope: 'global', limit: all.limit, remaining: 0, resetAt: all.reset, windowMs };
            return { outcome: 'allowed', limit: own.limit, remaining: own.remaining, resetAt: own.reset, windowMs };
          })(),
          timeoutMs,
        );
      } catch (error) {
        return { outcome: 'unavailable', error };
      }
    },
    ping: () => withTimeout(options.store.ping(), timeoutMs),
    close: () => options.store.close(),
  };
}

/** Upstash's REST client: the store @upstash/ratelimit is written for, used as is. */
export function createUpstashStore(url: string, token: string): RateLimitStore {
  let client: Promise<import('@upstash/redis').Redis> | undefined;
  const connect = async () => {
    const { Redis } = await import('@upstash/redis');
    return new Redis({ url, token, retry: false, enableTelemetry: false, signal: () => AbortSignal.timeout(STORE_TIMEOUT_MS) });
  };
  return {
    evalsha: async (sha, keys, args) => (await (client ??= connect())).evalsha(sha, keys, args),
    eval: async (script, keys, args) => (await (client ??= connect())).eval(script, keys, args),
    async ping() {
      await (await (client ??= connect())).ping();
    },
    async close() {}, // stateless HTTP
  };
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A plain Redis (ioredis) as the library's store. The library's scripts open with `#!lua flags=allow-key-locking`,
 * a flag only Upstash knows (Redis 7 refuses the script, Redis 6 the shebang), so the adapter runs each script
 * without that line. Its EVALSHA names the library's hash of the original script: the adapter answers NOSCRIPT
 * for a hash it has not seen, the library then sends the script through `eval`, and from then on the hash maps
 * to the stripped script's own SHA — one EVALSHA round trip per check in the steady state.
 */
export function createRedisStore(url: string, options: { onError?: (error: Error) => void } = {}): RateLimitStore {
  let connection: Promise<import('ioredis').Redis> | undefined;
  // connects on first use: building an app that never counts a request opens nothing
  const connect = async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      connectTimeout: STORE_TIMEOUT_MS,
      commandTimeout: STORE_TIMEOUT_MS,
      // a command sent while the connection is down fails at once instead of waiting for a reconnect
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000), // keeps reconnecting, so it recovers by itself
    });
    // failures also surface through the commands; without a listener an 'error' event would crash the process
    redis.on('error', (error: Error) => options.onError?.(error));
    return redis;
  };
  const scripts = new Map<string, { sha: string; body: string }>();

  const ready = async () => {
    const redis = await (connection ??= connect());
    // while it reconnects after a failure, answer at once rather than queue behind the next attempt
    if (redis.status === 'reconnecting' || redis.status === 'end' || redis.status === 'close') {
      throw new Error(`the rate-limit Redis is unreachable (connection ${redis.status})`);
    }
    return redis;
  };
  const run = async (script: { sha: string; body: string }, keys: string[], args: unknown[]) => {
    const redis = await ready();
    const values = args.map(String);
    try {
      return await redis.evalsha(script.sha, keys.length, ...keys, ...values);
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error;
      return redis.eval(script.body, keys.length, ...keys, ...values); // a restarted Redis forgot its scripts
    }
  };

  return {
    async evalsha(sha, keys, args) {
      const script = scripts.get(sha);
      if (!script) throw new Error(`NOSCRIPT ${sha} has not been sent through this adapter yet`);
      return run(script, keys, args);
    },
    async eval(source, keys, args) {
      const body = source.replace(/^#!lua[^\n]*\n/, '');
      const script = { sha: await sha1Hex(body), body };
      scripts.set(await sha1Hex(source), script);
      return run(script, keys, args);
    },
    async ping() {
      await (await ready()).ping();
    },
    async close() {
      const redis = await connection?.catch(() => undefined);
      redis?.disconnect();
    },
  };
}

/** The Redis key prefix: per environment, and per process under APP_ENV=test so concurrent test runs never share counters. */
export function rateLimitPrefix(config: Pick<Config, 'APP_ENV'>): string {
  const base = `microdao:ratelimit:${config.APP_ENV}`;
  return config.APP_ENV === 'test' ? `${base}:${crypto.randomUUID()}` : base;
}

type RateLimitSettings = Pick<
  Config,
  | 'APP_ENV'
  | 'RATE_LIMIT_GLOBAL'
  | 'RATE_LIMIT_PER_KEY'
  | 'RATE_LIMIT_FAIL_CLOSED'
  | 'REDIS_URL'
  | 'UPSTASH_REDIS_REST_URL'
  | 'UPSTASH_REDIS_REST_TOKEN'
>;

/**
 * The limiter the configuration describes: Upstash when its URL and token are set, else the Redis at REDIS_URL;
 * null when neither is set, which the config rules allow only in local, test and dev.
 */
export function rateLimiterFromConfig(
  config: RateLimitSettings,
  options: { onStoreError?: (error: Error) => void } = {},
): RateLimiter | null {
  const store =
    config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN
      ? createUpstashStore(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN)
      : config.REDIS_URL
        ? createRedisStore(config.REDIS_URL, { onError: options.onStoreError })
        : null;
  if (!store) return null;
  return createRateLimiter({
    store,
    globalLimit: config.RATE_LIMIT_GLOBAL,
    perKeyLimit: config.RATE_LIMIT_PER_KEY,
    prefix: rateLimitPrefix(config),
    failClosed: config.RATE_LIMIT_FAIL_CLOSED,
  });
}

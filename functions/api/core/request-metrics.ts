// Request metrics of the gateway (named in functions/_shared/metrics.ts) and the /metrics endpoint that a
// local or self-hosted gateway serves. The Supabase Edge Function gets neither: each isolate's counters are
// its own and nothing could scrape them.
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { METRICS_CONTENT_TYPE, observeHttpRequest, type GatewayMetrics } from '../../_shared/metrics.ts';
import type { GatewayEnv } from './context.ts';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The template of the route that handled the request (`/api/channels/:id`); undefined when none matched,
    e.g. a 404 or a CORS preflight (middleware, registered for ALL methods, is not a route). */
export function routeTemplate(c: Context): string | undefined {
  return matchedRoutes(c).findLast((route) => route.method !== 'ALL')?.path;
}

/** Why a 401/403 happened, from the answer's stable error code: auth_expired → expired, ... */
function authFailureReason(status: number, errorCode: string | undefined): string {
  if (status === 403) return 'forbidden';
  return errorCode?.startsWith('auth_') ? errorCode.slice('auth_'.length) : 'unknown';
}

/** Observes every request: duration by route template and method, status class, 429s and auth refusals. */
export function requestMetrics(metrics: GatewayMetrics): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : 'OTHER';
    observeHttpRequest(metrics, { method, route: routeTemplate(c), status, durationSeconds: (performance.now() - started) / 1000 });
    const errorCode = c.get('errorCode');
    if (status === 429) metrics.rateLimited.inc({ scope: errorCode?.includes('global') ? 'global' : 'key' });
    if (status === 401 || status === 403) metrics.authFailures.inc({ reason: authFailureReason(status, errorCode) });
  };
}

/** GET /metrics in the Prometheus text format. */
export function metricsEndpoint(metrics: GatewayMetrics): Handler {
  return async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': METRICS_CONTENT_TYPE });
}

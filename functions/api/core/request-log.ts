// The request log: one JSON line per request, installed once by the app factory.
import type { MiddlewareHandler } from 'hono';
import type { GatewayEnv } from './context.ts';

/** Binds a logger to the request (request_id, correlation_id) and writes one JSON line when it ends. */
export function requestLog(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = c.var.requestId;
    // the request id becomes the correlation id of every outbox event the request writes
    const logger = c.var.deps.logger.child({ request_id: requestId, correlation_id: requestId });
    c.set('logger', logger);
    await next();
    const status = c.res.status;
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      ...(c.var.errorCode ? { error_code: c.var.errorCode } : {}),
    };
    const line = c.var.logger; // requirePrincipal rebinds it with user_id (and key_id)
    if (status >= 500) line.error('request', fields);
    else line.info('request', fields);
  };
}

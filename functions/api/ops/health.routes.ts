// Liveness (/api/health: the process answers, no dependencies touched), readiness (/api/ready: Postgres, the
// schema version, NATS and Redis) and the OpenAPI document, for the smoke tests, the local launcher and monitors.
// All public, so readiness names each check with ok and a short reason only; addresses and error texts go to the
// log (and to the platform admins' status page).
import { z } from '@hono/zod-openapi';
import { errorBody } from '../../_shared/errors.ts';
import { createRouter, ErrorSchema, jsonResponse, publicRoute } from '../core/route.ts';
import type { ReadinessReport } from '../core/readiness.ts';

const Check = z
  .object({ ok: z.boolean(), reason: z.string().openapi({ example: 'unreachable' }), duration_ms: z.number() })
  .openapi('ReadinessCheck');
const Checks = z.object({ database: Check, migrations: Check, nats: Check, redis: Check });

const health = publicRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Liveness: the gateway process answers',
  responses: {
    200: jsonResponse(z.object({ status: z.literal('ok'), service: z.literal('api'), environment: z.string(), time: z.string() }), 'Alive'),
  },
});

const ready = publicRoute({
  method: 'get',
  path: '/ready',
  tags: ['operations'],
  summary: 'Readiness: Postgres, migrations, NATS and Redis',
  responses: {
    200: jsonResponse(z.object({ status: z.literal('ready'), checks: Checks }), 'Every dependency answers'),
    503: jsonResponse(ErrorSchema.extend({ checks: Checks }), 'At least one dependency is not ready; `checks` says which and why'),
  },
});

/** GET /api/openapi.json: the document app.ts generates from every route's definition. */
export const openApiDocumentRoute = publicRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['operations'],
  summary: 'This API: every route, generated from the same zod definitions that validate the requests',
  responses: { 200: jsonResponse(z.object({ openapi: z.string() }).passthrough(), 'The OpenAPI 3.0 document') },
});

export const healthRoutes = createRouter()
  .openapi(health, (c) =>
    c.json({ status: 'ok' as const, service: 'api' as const, environment: c.var.deps.config.APP_ENV, time: new Date().toISOString() }, 200),
  )
  .openapi(ready, async (c) => {
    const report = await c.var.deps.readiness();
    const checks = publicChecks(report);
    if (report.ready) return c.json({ status: 'ready' as const, checks }, 200);
    const failing = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name, check]) => `${name}: ${check.reason}`);
    c.set('errorCode', 'not_ready');
    return c.json({ ...errorBody('not_ready', `Not ready — ${failing.join('; ')}.`, c.var.requestId), checks }, 503);
  });

/** The report without the details (hosts, ports, versions, error texts) an anonymous caller must not see. */
function publicChecks(report: ReadinessReport): z.infer<typeof Checks> {
  const { database, migrations, nats, redis } = report.checks;
  const visible = ({ ok, reason, duration_ms }: z.infer<typeof Check>) => ({ ok, reason, duration_ms });
  return { database: visible(database), migrations: visible(migrations), nats: visible(nats), redis: visible(redis) };
}

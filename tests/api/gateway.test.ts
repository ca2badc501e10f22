// What the app factory installs once for every route: request id, JSON request log, CORS, body limit, the 404
// and error handlers with the one error shape, liveness/readiness and the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { createGatewayDeps } from '../../functions/api/gateway.ts';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase } from '../../functions/_shared/db.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { rateLimiterFromConfig } from '../../functions/_shared/rate-limit.ts';
import { createReadinessCheck } from '../../functions/api/core/readiness.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { seedIds } from '../harness/database.ts';
import { call, devLogin, expectedMigration, expectErrorShape, startTestGateway, testEnvironment, type TestGateway } from './helpers.ts';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway('api_gateway');
});
afterAll(async () => {
  await gateway?.close();
});

/** A second app on the same database with some variables changed; its logs are captured too. */
function variant(overrides: Record<string, string>, options: { expectedMigration?: string } = {}) {
  const config = loadConfig(testEnvironment(gateway.database, overrides));
  const sql = createDatabase(config);
  const rateLimiter = rateLimiterFromConfig(config);
  const logs: string[] = [];
  const app = createApp(
    createGatewayDeps({
      config,
      sql,
      logger: createLogger({ sink: (line) => logs.push(line) }),
      expectedMigration: options.expectedMigration ?? expectedMigration(),
      rateLimiter,
    }),
  );
  return {
    app,
    logs,
    close: async () => {
      await rateLimiter?.close();
      await sql.end({ timeout: 5 });
    },
  };
}

describe('request id', () => {
  it('echoes a well-formed X-Request-ID, and replaces a missing or unsafe one with a fresh UUID', async () => {
    const echoed = await call(gateway.app, 'GET', '/api/health', { headers: { 'X-Request-ID': 'client-chosen_id-42' } });
    expect(echoed.headers.get('x-request-id')).toBe('client-chosen_id-42');

    for (const headers of [{}, { 'X-Request-ID': 'has spaces and "quotes"' }, { 'X-Request-ID': 'x'.repeat(200) }] as Record<
      string,
      string
    >[]) {
      const answer = await call(gateway.app, 'GET', '/api/health', { headers });
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('puts the request id in error answers and in the request’s JSON log line, with the user and the error code', async () => {
    const { token, userId } = await devLogin(gateway.app, 'bob@demo.local');
    const answer = await call(gateway.app, 'POST', '/api/messages', {
      token,
      headers: { 'X-Request-ID': 'log-line-check' },
      body: { channel_id: '7d1c9f1e-3a4b-4c5d-8e6f-0a1b2c3d4e5f', body: 'x' },
    });
    expect(expectErrorShape(answer)).toMatchObject({ code: 'channel_not_found', request_id: 'log-line-check' });
    const lines = gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.request_id === 'log-line-check');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request',
        request_id: 'log-line-check',
        correlation_id: 'log-line-check',
        user_id: userId,
        method: 'POST',
        path: '/api/messages',
        status: 404,
        error_code: 'channel_not_found',
        duration_ms: expect.any(Number),
        time: expect.any(String),
      }),
    ]);
  });
});

describe('edges of the app', () => {
  it('answers unknown routes, inside and outside /api, with 404 route_not_found', async () => {
    for (const path of ['/api/nope', '/nope', '/api/messages/x/y/z']) {
      const answer = await call(gateway.app, 'GET', path);
      expect([path, answer.status, expectErrorShape(answer).code]).toEqual([path, 404, 'route_not_found']);
    }
  });

  it('refuses bodies over BODY_LIMIT_BYTES with 413, whether or not Content-Length announces them', async () => {
    const { token } = await devLogin(gateway.app, 'alice@demo.local');
    const oversized = JSON.stringify({ channel_id: seedIds.generalChannel, body: 'x'.repeat(gateway.config.BODY_LIMIT_BYTES) });
    const announced = await call(gateway.app, 'POST', '/api/messages', {
      token,
      body: oversized,
      headers: { 'content-length': String(oversized.length) },
    });
    expect([announced.status, expectErrorShape(announced).code]).toEqual([413, 'body_too_large']);
    const streamed = await call(gateway.app, 'POST', '/api/messages', { token, body: oversized });
    expect([streamed.status, expectErrorShape(streamed).code]).toEqual([413, 'body_too_large']);
  });

  it('allows CORS from WEB_ORIGINS only', async () => {
    const preflight = (origin: string) =>
      gateway.app.request('/api/messages', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight('http://127.0.0.1:5173');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('turns an unexpected failure into a 500 in the error shape, logging the details instead of returning them', async () => {
    const logs: string[] = [];
    const app = createApp(
      createGatewayDeps({
        config: gateway.config,
        sql: gateway.sql,
        logger: createLogger({ sink: (line) => logs.push(line) }),
        readiness: () => Promise.reject(new Error('secret internal detail')),
      }),
    );
    const answer = await call(app, 'GET', '/api/ready', { headers: { 'X-Request-ID': 'boom-1' } });
    expect(answer.status).toBe(500);
    expect(expectErrorShape(answer)).toMatchObject({ code: 'internal_error', request_id: 'boom-1' });
    expect(JSON.stringify(answer.body)).not.toContain('secret internal detail');
    const logged = logs.map((line) => JSON.parse(line)).find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({
      level: 'error',
      request_id: 'boom-1',
      error: { message: 'secret internal detail', stack: expect.any(String) },
    });
  });

  it('cancels a query running past DB_STATEMENT_TIMEOUT_MS and answers 504 database_timeout; the connection serves the next request', async () => {
    // test-only: a trigger of this test's own database makes one message body slow to insert
    await gateway.database.sql.unsafe(`
      create function public.slow_insert_for_test() returns trigger language plpgsql as $$
      begin if new.body = 'take your time' then perform pg_sleep(30); end if; return new; end $$;
      create trigger slow_insert_for_test before insert on public.messages for each row execute function public.slow_insert_for_test();`);
    const impatient = variant({ DB_STATEMENT_TIMEOUT_MS: '300', DB_POOL_MAX: '1' });
    try {
      const { token } = await devLogin(gateway.app, 'alice@demo.local');
      const post = (body: string) =>
        call(impatient.app, 'POST', '/api/messages', { token, body: { channel_id: seedIds.generalChannel, body } });
      const started = Date.now();
      const slow = await post('take your time');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(slow.status).toBe(504);
      expect(expectErrorShape(slow)).toMatchObject({ code: 'database_timeout', message: expect.stringContaining('retry') });
      // the one pooled connection was given back, rolled back and usable
      expect((await post('quick one')).status).toBe(201);
      const lines = impatient.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.find((line) => line.msg === 'database refused the request')).toMatchObject({
        level: 'warn',
        error_code: 'database_timeout',
      });
      expect(lines.filter((line) => line.msg === 'unhandled error')).toEqual([]);
      const [row] = await gateway.database.sql<{ count: number }[]>`
        select count(*)::int as count from public.messages where body = 'take your time'`;
      expect(row?.count).toBe(0);
    } finally {
      await impatient.close();
      await gateway.database.sql.unsafe(`
        drop trigger slow_insert_for_test on public.messages; drop function public.slow_insert_for_test();`);
    }
  });

  it('answers 503 database_unavailable when Postgres cannot be reached', async () => {
    const unreachable = variant({ DB_PORT: '9' });
    try {
      const { token } = await devLogin(gateway.app, 'alice@demo.local');
      const answer = await call(unreachable.app, 'GET', '/api/teams', { token });
      expect([answer.status, expectErrorShape(answer).code]).toEqual([503, 'database_unavailable']);
    } finally {
      await unreachable.close();
    }
  });
});

describe('health and readiness', () => {
  it('reports liveness without touching any dependency', async () => {
    const dead = variant({ DB_PORT: '9', NATS_URL: 'nats://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9' });
    try {
      const answer = await call(dead.app, 'GET', '/api/health');
      expect(answer).toMatchObject({ status: 200, body: { status: 'ok', service: 'api', environment: 'test' } });
    } finally {
      await dead.close();
    }
  });

  it('is ready when Postgres, the schema, NATS and Redis all answer', async () => {
    const answer = await call<{ status: string; checks: Record<string, { ok: boolean; reason: string }> }>(
      gateway.app,
      'GET',
      '/api/ready',
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.status).toBe('ready');
    expect(Object.keys(answer.body.checks).sort()).toEqual(['database', 'migrations', 'nats', 'redis']);
    for (const check of Object.values(answer.body.checks))
      expect(check).toEqual({ ok: true, reason: 'ok', duration_ms: expect.any(Number) });
  });

  it('checks once for a burst of probes, and again once the report is a moment old', async () => {
    let queries = 0;
    // each check reads Postgres twice (select 1, the migration ledger): count the statements it sends
    const counted = ((...args: Parameters<typeof gateway.sql>) => {
      queries += 1;
      return gateway.sql(...args);
    }) as unknown as typeof gateway.sql;
    const app = createApp(
      createGatewayDeps({
        config: gateway.config,
        sql: gateway.sql,
        rateLimiter: null,
        readiness: createReadinessCheck(gateway.config, counted, expectedMigration(), { cacheMs: 300 }),
      }),
    );
    const burst = await Promise.all(Array.from({ length: 10 }, () => call(app, 'GET', '/api/ready')));
    expect(burst.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect((await call(app, 'GET', '/api/ready')).status).toBe(200);
    expect(queries).toBe(2);
    await waitUntil('the cached report to expire', async () => (await call(app, 'GET', '/api/ready')).status === 200 && queries > 2, {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(queries).toBe(4);
  });

  it('shows anonymous callers short reasons only; addresses and versions go to the log', async () => {
    const ready = await call(gateway.app, 'GET', '/api/ready');
    expect(ready.status).toBe(200);
    const body = JSON.stringify(ready.body);
    for (const secret of ['127.0.0.1', ':4222', ':6379', ':5432', expectedMigration()!]) expect(body).not.toContain(secret);
  });

  it('is not ready, naming each failing check, when NATS and Redis are down or the schema is behind', async () => {
    const broken = variant({ NATS_URL: 'nats://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9' }, { expectedMigration: '29991231000000' });
    try {
      const started = Date.now();
      const answer = await call<{ error: { code: string; message: string }; checks: Record<string, { ok: boolean; reason: string }> }>(
        broken.app,
        'GET',
        '/api/ready',
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(answer.status).toBe(503);
      expect(expectErrorShape(answer).code).toBe('not_ready');
      expect(answer.body.checks).toEqual({
        database: { ok: true, reason: 'ok', duration_ms: expect.any(Number) },
        migrations: { ok: false, reason: 'schema behind this gateway: run scripts/migrate.sh up', duration_ms: expect.any(Number) },
        nats: { ok: false, reason: 'unreachable', duration_ms: expect.any(Number) },
        redis: { ok: false, reason: 'unreachable', duration_ms: expect.any(Number) },
      });
      expect(answer.body.error.message).toBe(
        'Not ready — migrations: schema behind this gateway: run scripts/migrate.sh up; nats: unreachable; redis: unreachable.',
      );
      // the versions stay out of the answer, and are in the log
      expect(JSON.stringify(answer.body)).not.toContain('29991231000000');
      const logged = broken.logs
        .map((line) => JSON.parse(line) as { msg: string; checks?: Record<string, string> })
        .find((l) => l.msg === 'not ready');
      expect(logged?.checks?.migrations).toMatch(/the gateway expects 29991231000000/);
      expect(Object.keys(logged?.checks ?? {}).sort()).toEqual(['migrations', 'nats', 'redis']);
    } finally {
      await broken.close();
    }
  });
});

describe('OpenAPI document', () => {
  it('describes the routes, their security (a session or an access key) and the error shape', async () => {
    const answer = await call<{
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    }>(gateway.app, 'GET', '/api/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.0.3');
    expect(answer.body.paths['/api/messages']?.post?.security).toEqual([{ bearerAuth: [] }, { accessKey: [] }]);
    expect(answer.body.paths['/api/health']?.get?.security).toEqual([]);
    expect(answer.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(answer.body.components.securitySchemes.accessKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(answer.body.components.schemas.Error).toBeDefined();
  });
});

// What the app factory installs once for every route: request id, JSON request log, CORS, body limit, the 404
// and error handlers with the one error shape, liveness/readiness and the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase } from '../../functions/_shared/db.ts';
import { createLogger } from '../../functions/_shared/log.ts';
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
  const logs: string[] = [];
  const app = createApp({
    config,
    sql,
    logger: createLogger({ sink: (line) => logs.push(line) }),
    expectedMigration: options.expectedMigration ?? expectedMigration(),
  });
  return { app, logs, close: () => sql.end({ timeout: 5 }) };
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
    const app = createApp({
      config: gateway.config,
      sql: gateway.sql,
      logger: createLogger({ sink: (line) => logs.push(line) }),
      readiness: () => Promise.reject(new Error('secret internal detail')),
    });
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
    const answer = await call<{ status: string; checks: Record<string, { ok: boolean; detail: string }> }>(
      gateway.app,
      'GET',
      '/api/ready',
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.status).toBe('ready');
    expect(Object.keys(answer.body.checks).sort()).toEqual(['database', 'migrations', 'nats', 'redis']);
    expect(answer.body.checks.migrations!.detail).toBe(`schema at ${expectedMigration()}`);
  });

  it('is not ready, naming each failing check, when NATS and Redis are down or the schema is behind', async () => {
    const broken = variant({ NATS_URL: 'nats://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9' }, { expectedMigration: '29991231000000' });
    try {
      const started = Date.now();
      const answer = await call<{ error: { code: string; message: string }; checks: Record<string, { ok: boolean; detail: string }> }>(
        broken.app,
        'GET',
        '/api/ready',
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(answer.status).toBe(503);
      expect(expectErrorShape(answer).code).toBe('not_ready');
      expect(answer.body.checks.database!.ok).toBe(true);
      expect(answer.body.checks.nats!.ok).toBe(false);
      expect(answer.body.checks.redis!.ok).toBe(false);
      expect(answer.body.checks.migrations).toMatchObject({ ok: false, detail: expect.stringContaining('run scripts/migrate.sh up') });
      expect(answer.body.error.message).toMatch(/migrations: .*nats: .*redis: /);
    } finally {
      await broken.close();
    }
  });
});

describe('OpenAPI document', () => {
  it('describes the routes, their bearer security and the error shape', async () => {
    const answer = await call<{
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    }>(gateway.app, 'GET', '/api/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.0.3');
    expect(answer.body.paths['/api/messages']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(answer.body.paths['/api/health']?.get?.security).toBeUndefined();
    expect(answer.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(answer.body.components.schemas.Error).toBeDefined();
  });
});

// The smoke scenario over HTTP with the gateway running under Deno, started exactly the way the local
// launcher starts it (serve-local.ts), on a free port against a fresh test database.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorBody } from '../../functions/_shared/errors.ts';
import { createTestDatabase, loadSeed, seedIds, type TestDatabase } from '../harness/database.ts';
import { denoEnvironment, denoGateway, startDenoGateway, type DenoGateway } from '../harness/deno-gateway.ts';
import { testEnvironment } from './helpers.ts';

const STARTUP_TIMEOUT_MS = 90_000; // the first run may download the npm packages into Deno's cache

let database: TestDatabase;
let gateway: DenoGateway | undefined;

async function request<T>(method: string, path: string, options: { token?: string; body?: unknown; requestId?: string } = {}) {
  const response = await fetch(`${gateway!.url}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

beforeAll(async () => {
  database = await createTestDatabase('api_deno');
  await loadSeed(database.sql);
  gateway = await startDenoGateway({ env: testEnvironment(database, { LOG_LEVEL: 'warn' }), timeoutMs: STARTUP_TIMEOUT_MS });
}, STARTUP_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
});

describe('the gateway under Deno', () => {
  it('runs the smoke scenario over HTTP, at /api and at /functions/v1/api', async () => {
    const login = await request<{ access_token: string; user: { id: string } }>('POST', '/api/auth/dev-login', {
      body: { email: 'alice@demo.local' },
    });
    expect(login.status).toBe(200);
    const token = login.body.access_token;

    const channel = await request<{ id: string }>('POST', '/functions/v1/api/channels', {
      token,
      body: { team_id: seedIds.demoTeam, name: 'over-http' },
    });
    expect(channel.status).toBe(201);

    const sent = await request<{ id: string }>('POST', '/api/messages', {
      token,
      requestId: 'deno-smoke-1',
      body: { channel_id: channel.body.id, body: 'Hello over HTTP from Deno' },
    });
    expect(sent.status).toBe(201);
    expect(sent.headers.get('x-request-id')).toBe('deno-smoke-1');

    const listed = await request<{ items: { id: string; body: string }[] }>(
      'GET',
      `/functions/v1/api/messages?channel_id=${channel.body.id}`,
      { token },
    );
    expect(listed.body.items).toEqual([expect.objectContaining({ id: sent.body.id, body: 'Hello over HTTP from Deno' })]);

    const outbox = await database.sql`select event_type, correlation_id from public.outbox_events where aggregate_id = ${sent.body.id}`;
    expect(outbox).toEqual([{ event_type: 'message.created', correlation_id: 'deno-smoke-1' }]);
  });

  it('is ready under Deno: Postgres, the schema version, NATS and Redis all answer', async () => {
    const ready = await request<{ status: string; checks: Record<string, { ok: boolean; detail: string }> }>('GET', '/api/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(Object.values(ready.body.checks).every((check) => check.ok)).toBe(true);
  });

  it('answers malformed requests with the error shape under Deno too', async () => {
    const malformed = await request('POST', '/api/auth/dev-login', { body: '{"email":' });
    expect(malformed.status).toBe(400);
    expect(isErrorBody(malformed.body) && malformed.body.error.code).toBe('malformed_json');
    const unauthenticated = await request('GET', '/api/teams');
    expect(isErrorBody(unauthenticated.body) && unauthenticated.body.error.code).toBe('auth_missing');
  });

  it('refuses to start when the dev login is enabled in staging, naming the variable', () => {
    const result = spawnSync(denoGateway.program, denoGateway.args, {
      cwd: denoGateway.cwd,
      env: denoEnvironment(testEnvironment(database, { APP_ENV: 'staging', DEV_LOGIN_ENABLED: 'true' })),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('refusing to start');
    expect(result.stderr).toContain('DEV_LOGIN_ENABLED');
  }, 70_000);
});

// Rate limits at the gateway, against the real Redis: each app here gets its own limiter with small limits and
// a fresh key prefix, on the same database. Per user, per client address for requests without a valid token,
// global across everyone; 429s in the error shape with Retry-After and RateLimit-* headers; recovery when the
// window moves on; and what happens when Redis cannot be reached.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.ts';
import { createGatewayDeps } from '../../functions/api/gateway.ts';
import type { Config } from '../../functions/_shared/config.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { createGatewayMetrics, type GatewayMetrics } from '../../functions/_shared/metrics.ts';
import { createRateLimiter, createRedisStore, type RateLimiter } from '../../functions/_shared/rate-limit.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { seedIds } from '../harness/database.ts';
import { testServices, uniqueName } from '../harness/services.ts';
import {
  call,
  createAccessKey,
  devLogin,
  expectedMigration,
  expectErrorShape,
  startTestGateway,
  type Answer,
  type TestGateway,
} from './helpers.ts';

let gateway: TestGateway;
let alice = '';
let bob = '';
let carol = '';
const limiters: RateLimiter[] = [];

beforeAll(async () => {
  gateway = await startTestGateway('api_rate_limit');
  // tokens from the base gateway (limits far away), so the apps under test count only the requests below
  const sessions = await Promise.all(
    ['alice@demo.local', 'bob@demo.local', 'carol@demo.local'].map((email) => devLogin(gateway.app, email)),
  );
  [alice, bob, carol] = sessions.map((session) => session.token) as [string, string, string];
});
afterAll(async () => {
  await Promise.all(limiters.map((limiter) => limiter.close()));
  await gateway?.close();
});

interface Limits {
  perKey: number;
  global: number;
  windowMs?: number;
  redisUrl?: string;
  failClosed?: boolean;
  trustedProxyHeader?: Config['TRUSTED_PROXY_HEADER'];
}

/** An app on the test database whose limiter has these limits and a key prefix of its own. */
function appWith(limits: Limits) {
  const prefix = uniqueName('ratelimit');
  const limiter = createRateLimiter({
    store: createRedisStore(limits.redisUrl ?? testServices.redisUrl),
    perKeyLimit: limits.perKey,
    globalLimit: limits.global,
    windowMs: limits.windowMs ?? 60_000,
    prefix,
    failClosed: limits.failClosed,
  });
  limiters.push(limiter);
  const logs: string[] = [];
  const metrics = createGatewayMetrics();
  const app = createApp(
    createGatewayDeps({
      config: { ...gateway.config, TRUSTED_PROXY_HEADER: limits.trustedProxyHeader ?? 'none' },
      sql: gateway.sql,
      logger: createLogger({ sink: (line) => logs.push(line) }),
      expectedMigration: expectedMigration(),
      rateLimiter: limiter,
      metrics,
    }),
  );
  return { app, logs, metrics, prefix };
}

const teams = (app: ReturnType<typeof appWith>['app'], token: string) => call(app, 'GET', '/api/teams', { token });

function expectRefusal(answer: Answer, code: 'rate_limited_key' | 'rate_limited_global', limit: number, windowSeconds: number) {
  expect(answer.status).toBe(429);
  expect(expectErrorShape(answer)).toMatchObject({ code, request_id: answer.headers.get('x-request-id') });
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(expectErrorShape(answer).message).toContain(`retry in ${retryAfter} s`);
  expect({
    limit: answer.headers.get('ratelimit-limit'),
    remaining: answer.headers.get('ratelimit-remaining'),
    reset: answer.headers.get('ratelimit-reset'),
    policy: answer.headers.get('ratelimit-policy'),
  }).toEqual({ limit: String(limit), remaining: '0', reset: String(retryAfter), policy: `${limit};w=${windowSeconds}` });
}

async function rateLimitedCount(metrics: GatewayMetrics, scope: 'key' | 'global'): Promise<number> {
  const metric = await metrics.rateLimited.get();
  return metric.values.find((value) => value.labels.scope === scope)?.value ?? 0;
}

describe('the per-key limit', () => {
  it('refuses a user over their limit with 429 rate_limited_key, Retry-After and RateLimit headers; another user is unaffected', async () => {
    const { app, metrics } = appWith({ perKey: 3, global: 100 });
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await teams(app, alice);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBe('3');
      expect(answer.headers.get('ratelimit-policy')).toBe('3;w=60');
      remaining.push(answer.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const refused = await teams(app, alice);
    expectRefusal(refused, 'rate_limited_key', 3, 60);
    expect(expectErrorShape(refused).message).toMatch(/more than 3 requests in 60 s/);
    // whatever the route: the limit is the caller's, not the route's
    expect((await call(app, 'GET', `/api/messages?channel_id=${seedIds.generalChannel}`, { token: alice })).status).toBe(429);

    const other = await teams(app, bob);
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('2');
    expect(await rateLimitedCount(metrics, 'key')).toBe(2);
    expect(await rateLimitedCount(metrics, 'global')).toBe(0);
  });

  it('counts each access key as a caller of its own, apart from the person who created it and from other keys', async () => {
    const { app } = appWith({ perKey: 2, global: 100 });
    const first = (await createAccessKey(gateway.app, alice, seedIds.demoTeam)).key;
    const second = (await createAccessKey(gateway.app, alice, seedIds.demoTeam)).key;
    const me = (key: string) => call(app, 'GET', '/api/me', { token: key });
    expect([(await me(first)).status, (await me(first)).status]).toEqual([200, 200]);
    expectRefusal(await me(first), 'rate_limited_key', 2, 60);
    expect((await me(second)).status).toBe(200);
    expect((await teams(app, alice)).status).toBe(200);
  });

  it('keeps its counters in Redis under the limiter’s prefix, each with an expiry', async () => {
    const { app, prefix } = appWith({ perKey: 5, global: 100 });
    expect((await teams(app, alice)).status).toBe(200);
    const redis = new Redis(testServices.redisUrl);
    try {
      const keys = (await redis.keys(`${prefix}:*`)).sort();
      expect(keys).toEqual([
        expect.stringMatching(new RegExp(`^${prefix}:global:all:\\d+$`)),
        expect.stringMatching(/:key:user:[0-9a-f-]{36}:\d+$/),
      ]);
      for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('lets the caller in again once the window has moved on', async () => {
    // long enough that three requests fit in one window on a loaded machine
    const windowMs = 3000;
    const { app } = appWith({ perKey: 2, global: 100, windowMs });
    expect((await teams(app, carol)).status).toBe(200);
    expect((await teams(app, carol)).status).toBe(200);
    const refused = await teams(app, carol);
    expectRefusal(refused, 'rate_limited_key', 2, windowMs / 1000);
    const refusedAt = Date.now();
    // a refused request is not counted, so polling does not push the recovery further away
    let recovered: Answer | undefined;
    await waitUntil(
      'the limit to let carol in again',
      async () => {
        const answer = await teams(app, carol);
        if (answer.status === 200) recovered = answer;
        else expect(answer.status).toBe(429);
        return answer.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(recovered!.headers.get('ratelimit-limit')).toBe('2');
    // sliding window: the previous window's requests fade out over at most one more window
    expect(Date.now() - refusedAt).toBeLessThan(3 * windowMs + 2000);
  });
});

describe('the global limit', () => {
  it('refuses everyone with 429 rate_limited_global once all callers together reach it', async () => {
    const { app, metrics } = appWith({ perKey: 100, global: 4 });
    expect((await teams(app, alice)).status).toBe(200);
    expect((await teams(app, bob)).status).toBe(200);
    expect((await teams(app, carol)).status).toBe(200);
    expect((await call(app, 'GET', '/api/openapi.json', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).toBe(200);
    const refused = await teams(app, alice);
    expectRefusal(refused, 'rate_limited_global', 4, 60);
    expect(expectErrorShape(refused).message).toMatch(/from everyone together/);
    expectRefusal(
      await call(app, 'GET', '/api/openapi.json', { headers: { 'x-forwarded-for': '203.0.113.9' } }),
      'rate_limited_global',
      4,
      60,
    );
    expect(await rateLimitedCount(metrics, 'global')).toBe(2);
    expect(await rateLimitedCount(metrics, 'key')).toBe(0);
  });

  it('does not spend the global budget on requests a caller’s own limit refuses', async () => {
    const { app } = appWith({ perKey: 2, global: 4 });
    for (let i = 0; i < 6; i += 1) await teams(app, alice); // 2 counted, 4 refused per key
    expect((await teams(app, bob)).status).toBe(200);
    expect((await teams(app, bob)).status).toBe(200);
  });
});

describe('requests without a valid token', () => {
  it('counts per client address (the entry the trusted proxy appended to x-forwarded-for), an IPv6 client by its /64', async () => {
    const { app } = appWith({ perKey: 2, global: 100, trustedProxyHeader: 'x-forwarded-for' });
    // what a client wrote comes first; the proxy appends the address it saw
    const from = (address: string) => ({ headers: { 'x-forwarded-for': `203.0.113.${Math.floor(Math.random() * 250)}, ${address}` } });
    expect((await call(app, 'GET', '/api/openapi.json', from('198.51.100.1'))).status).toBe(200);
    // a bad token is no way around it: counted by address (and answered 401 while within the limit)
    expect((await call(app, 'GET', '/api/teams', { ...from('198.51.100.1'), token: 'not-a-token' })).status).toBe(401);
    const refused = await call(app, 'POST', '/api/auth/dev-login', { ...from('198.51.100.1'), body: { email: 'alice@demo.local' } });
    expectRefusal(refused, 'rate_limited_key', 2, 60);
    expect((await call(app, 'GET', '/api/no/such/route', from('198.51.100.1'))).status).toBe(429);
    // another address has its own count
    expect((await call(app, 'GET', '/api/openapi.json', from('198.51.100.2'))).status).toBe(200);
    // two addresses of one IPv6 /64 share a count, another /64 does not
    expect((await call(app, 'GET', '/api/openapi.json', from('2001:db8:0:1::1'))).status).toBe(200);
    expect((await call(app, 'GET', '/api/openapi.json', from('2001:db8:0:1:ffff::2'))).status).toBe(200);
    expect((await call(app, 'GET', '/api/openapi.json', from('2001:db8:0:1::3'))).status).toBe(429);
    expect((await call(app, 'GET', '/api/openapi.json', from('2001:db8:0:2::1'))).status).toBe(200);
  });

  it('believes cf-connecting-ip when it is the trusted header, whatever x-forwarded-for says', async () => {
    const { app } = appWith({ perKey: 1, global: 100, trustedProxyHeader: 'cf-connecting-ip' });
    const headers = (spoofed: string) => ({ headers: { 'cf-connecting-ip': '192.0.2.44', 'x-forwarded-for': spoofed } });
    expect((await call(app, 'GET', '/api/openapi.json', headers('192.0.2.1'))).status).toBe(200);
    expect((await call(app, 'GET', '/api/openapi.json', headers('192.0.2.2'))).status).toBe(429);
  });

  it('gives a rotation of spoofed addresses no fresh budget: without a trusted proxy the TCP peer counts', async () => {
    const { app } = appWith({ perKey: 3, global: 10, trustedProxyHeader: 'none' });
    // app.request's third argument is what @hono/node-server passes: the connection, with the peer's address
    const fromPeer = (spoofed: number) =>
      app.request(
        '/api/openapi.json',
        {
          headers: {
            'x-forwarded-for': `198.51.100.${spoofed}`,
            'cf-connecting-ip': `198.51.100.${spoofed}`,
            'x-real-ip': `198.51.100.${spoofed}`,
          },
        },
        { incoming: { socket: { remoteAddress: '192.0.2.7' } } },
      );
    const statuses: number[] = [];
    for (let spoofed = 1; spoofed <= 8; spoofed += 1) statuses.push((await fromPeer(spoofed)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    // the refused requests did not spend the global budget: everyone else still gets in
    for (const token of [alice, bob, carol]) expect((await teams(app, token)).status).toBe(200);
  });

  it('never limits /api/health and /api/ready, so probes cannot be throttled into reporting the gateway down', async () => {
    const { app } = appWith({ perKey: 1, global: 1 });
    expect((await call(app, 'GET', '/api/openapi.json')).status).toBe(200);
    expect((await call(app, 'GET', '/api/openapi.json')).status).toBe(429);
    for (let i = 0; i < 3; i += 1) {
      const health = await call(app, 'GET', '/api/health');
      expect(health.status).toBe(200);
      expect(health.headers.get('ratelimit-limit')).toBeNull();
      expect((await call(app, 'GET', '/api/ready')).status).toBe(200);
    }
  });
});

describe('when Redis cannot be reached', () => {
  it('lets requests through (fail open, the default) with one warning, and answers promptly', async () => {
    const closedPort = await ephemeralPort();
    const { app, logs } = appWith({ perKey: 1, global: 1, redisUrl: `redis://127.0.0.1:${closedPort}` });
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) {
      const answer = await teams(app, alice);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBeNull();
    }
    expect(Date.now() - started).toBeLessThan(5000);
    const warnings = logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg?.toString().startsWith('rate limits not enforced'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', policy: 'fail open (let through)' });
  });

  it('refuses requests with 503 rate_limit_unavailable when RATE_LIMIT_FAIL_CLOSED is set', async () => {
    const closedPort = await ephemeralPort();
    const { app } = appWith({ perKey: 1, global: 1, redisUrl: `redis://127.0.0.1:${closedPort}`, failClosed: true });
    const answer = await teams(app, alice);
    expect(answer.status).toBe(503);
    expect(expectErrorShape(answer).code).toBe('rate_limit_unavailable');
    expect(answer.headers.get('retry-after')).toBe('5');
    // the probes still answer: /api/ready says which dependency is the problem
    const ready = await call<{ checks: Record<string, { ok: boolean; reason: string }> }>(app, 'GET', '/api/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis).toMatchObject({ ok: false, reason: 'unreachable' });
  });
});

// /readyz of a worker, against real servers: ready while its NATS connection and Postgres pool answer, not ready
// while NATS is down or the database cannot be reached (and /healthz stays 200 throughout: liveness must not
// restart a worker that is riding out an outage), ready again once NATS is back; a closed pool leaves the checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../functions/_shared/metrics.ts';
import { serveMetrics, type MetricsServer } from '../../workers/lib/metrics-server.ts';
import { connectNats } from '../../workers/lib/nats.ts';
import { connectWorkerDatabase } from '../../workers/lib/postgres.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { startPrivateNats, type TestNats } from '../harness/nats.ts';
import { testServices } from '../harness/services.ts';

const adminUrl = new URL(testServices.postgresAdminUrl);
const database = (port: number) => ({
  DB_HOST: adminUrl.hostname,
  DB_PORT: port,
  DB_NAME: adminUrl.pathname.slice(1) || 'postgres',
  DB_USER: decodeURIComponent(adminUrl.username) || 'postgres',
  DB_PASSWORD: adminUrl.password ? decodeURIComponent(adminUrl.password) : undefined,
  DB_SSLMODE: 'disable' as const,
  DB_POOL_MAX: 2,
});

async function readyz(server: MetricsServer): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, string> } };
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('worker readiness (/readyz)', () => {
  let nats: TestNats;
  let server: MetricsServer;

  beforeAll(async () => {
    nats = await startPrivateNats();
    server = await serveMetrics(new Registry(), { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await nats?.destroy();
  });

  it('follows the NATS connection and the Postgres pool, while /healthz stays up', async () => {
    const nc = await connectNats(
      { NATS_URL: nats.url, NATS_USER: undefined, NATS_PASSWORD: undefined },
      { name: 'readiness-test', reconnectTimeWait: 100 },
    );
    const sql = connectWorkerDatabase(database(Number(adminUrl.port || 5432)), { applicationName: 'microdao-readiness-test', max: 1 });
    try {
      const ready = await readyz(server);
      expect(ready.status).toBe(200);
      expect(ready.body.checks).toEqual({ 'nats readiness-test': 'ok', 'postgres microdao-readiness-test': 'ok' });

      await nats.stop();
      await eventually(async () => (await readyz(server)).status === 503, 'not ready while NATS is down');
      const down = await readyz(server);
      expect(down.body.status).toBe('not_ready');
      expect(down.body.checks['nats readiness-test']).not.toBe('ok');
      expect(down.body.checks['postgres microdao-readiness-test']).toBe('ok');
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      await nats.start();
      await eventually(async () => (await readyz(server)).status === 200, 'ready again once NATS is back');
    } finally {
      await sql.end({ timeout: 5 });
      await nc.close();
    }
    expect((await readyz(server)).body.checks).toEqual({});
  });

  it('is not ready while a pool cannot reach its database', async () => {
    const unreachable = connectWorkerDatabase(database(await ephemeralPort()), { applicationName: 'microdao-unreachable', max: 1 });
    try {
      const report = await readyz(server);
      expect(report.status).toBe(503);
      expect(report.body.checks['postgres microdao-unreachable']).toMatch(/ECONNREFUSED|no answer/);
    } finally {
      await unreachable.end({ timeout: 1 });
    }
    expect((await readyz(server)).status).toBe(200);
  });
});

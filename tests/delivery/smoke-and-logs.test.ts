// The gateway really running under Deno (functions/api/serve-local.ts) on a fresh test database:
// scripts/smoke.sh passes against it (the checklist says "not available yet" for what is not built), and its
// real log output — stdout and stderr of the process — holds no secret, only [REDACTED] where one was sent.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';
import { ROOT, runScript } from './fixtures.ts';

const SECRETS = {
  JWT_SECRET: `smoke-jwt-${Date.now().toString(36)}-Qw8Er4Ty2Ui6Op0AsDf3Gh7Jk`,
  SESSION_SECRET: `smoke-session-${Date.now().toString(36)}-Zx9Cv1Bn5Mm3Lk7Jh`,
  DB_PASSWORD: `smoke-db-${Date.now().toString(36)}-Pw4Rt8Yu2`, // local trust auth lets any password in
};

let db: TestDatabase;
let gateway: ChildProcess;
let api: string;
let logs = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gateway.exitCode !== null) throw new Error(`the gateway exited with ${gateway.exitCode}:\n${logs}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the gateway did not answer ${url}/health within ${timeoutMs} ms:\n${logs}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function stopGateway(): Promise<void> {
  return new Promise((resolve) => {
    if (gateway.exitCode !== null || gateway.signalCode !== null) return resolve();
    const force = setTimeout(() => gateway.kill('SIGKILL'), 10_000);
    gateway.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    gateway.kill('SIGTERM');
  });
}

beforeAll(async () => {
  db = await createTestDatabase('smoke');
  const target = new URL(db.url);
  const port = await freePort();
  api = `http://127.0.0.1:${port}/api`;
  gateway = spawn(
    path.join(ROOT, 'node_modules/.bin/deno'),
    ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'functions/api/serve-local.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DENO_DIR: process.env.DENO_DIR,
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        DB_HOST: target.hostname,
        DB_PORT: target.port || '5432',
        DB_NAME: db.name,
        DB_USER: decodeURIComponent(target.username || 'postgres'),
        DB_SSLMODE: 'disable',
        DEV_LOGIN_ENABLED: 'true',
        NATS_URL: testServices.natsUrl,
        REDIS_URL: testServices.redisUrl,
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        ...SECRETS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  gateway.stdout!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  gateway.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  await waitForHealth(api, 90_000);
}, 120_000);

afterAll(async () => {
  if (gateway) await stopGateway();
  await db?.drop();
});

describe('the smoke check against the local gateway under Deno', () => {
  it('passes health, readiness, login, channel, message, listing and archive; the rest of the checklist is not available yet', async () => {
    const result = await runScript('scripts/smoke.sh', ['--env', 'test', '--base-url', api, '--checklist'], { timeoutMs: 60_000 });
    expect(result.code, result.output).toBe(0);
    for (const step of [
      'health',
      'readiness',
      'login',
      'team',
      'create channel',
      'send message',
      'message listed',
      'archive channel',
      'checklist: login/chat',
    ]) {
      expect(result.stdout, result.output).toMatch(new RegExp(`^  PASS\\s+${step}\\s`, 'm'));
    }
    for (const item of ['agent run', 'test payout', 'Embassy test call']) {
      expect(result.stdout).toMatch(new RegExp(`^  NOT AVAILABLE YET\\s+checklist: ${item}\\s+.+ is not built yet`, 'm'));
      expect(result.stdout).not.toMatch(new RegExp(`PASS\\s+checklist: ${item}`));
    }
    expect(result.stdout).toMatch(/^smoke: 9 passed, 3 not available yet$/m);

    // what the smoke check did is really in the database, outbox events included
    const [channel] = await db.sql<{ id: string; archived: boolean }[]>`
      select id, archived_at is not null as archived from public.channels where name like 'smoke-%'`;
    expect(channel?.archived).toBe(true);
    const messages = await db.sql<{ id: string }[]>`select id from public.messages where channel_id = ${channel!.id}`;
    expect(messages).toHaveLength(1);
    const events = await db.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where event_type in ('channel.created', 'message.created')`;
    expect(events.map((e) => e.event_type).sort()).toEqual(['channel.created', 'message.created']);
  });

  it('reuses the smoke team on the next run, and --strict refuses "not available yet"', async () => {
    const again = await runScript('scripts/smoke.sh', ['--env', 'test', '--base-url', api, '--checklist', '--strict'], {
      timeoutMs: 60_000,
    });
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/PASS\s+team\s+using team smoke-checks/);
    expect(again.stderr).toMatch(/--strict: every step must pass/);
    const teams = await db.sql<{ id: string }[]>`select id from public.teams where name = 'smoke-checks'`;
    expect(teams).toHaveLength(1);
  });
});

describe("the gateway's real log output", () => {
  it('holds no secret value and no token, only [REDACTED] where one was sent', async () => {
    const login = await fetch(`${api}/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'leaky@microdao.test' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    expect(token).toMatch(/^eyJ/);
    // secrets where the request log writes them: the path of a request (404s are logged too)
    for (const leak of [SECRETS.JWT_SECRET, SECRETS.DB_PASSWORD, token]) {
      const response = await fetch(`${api}/leak/${leak}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(404);
      await response.body?.cancel();
    }
    await stopGateway();

    const lines = logs.split('\n').filter(Boolean);
    const leakLines = lines.filter((line) => line.includes('/api/leak/'));
    expect(leakLines, logs).toHaveLength(3);
    for (const line of leakLines) expect(line).toContain('/api/leak/[REDACTED]');
    for (const secret of [...Object.values(SECRETS), token, token.split('.')[2]!]) expect(logs).not.toContain(secret);
    // and the log is the gateway's JSON request log, with request ids, not an empty stream
    expect(lines.filter((line) => line.includes('"msg":"request"')).length).toBeGreaterThan(10);
  });
});

// Feature flags through the gateway: every caller reads its own evaluations; only platform admins change
// flags (flag.manage), each change audited and refused on a stale version; and a change reaches another
// process's flag store — a second store on the same database and the flags CLI as a worker process — within 2 s.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../functions/_shared/db.ts';
import { createFlagStore, type FlagStore } from '../../functions/_shared/flags/store.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { databaseVariables } from '../harness/database.ts';
import { call, devLogin, expectErrorShape, startTestGateway, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let ops: string; // a platform admin (seed)
let bob: string; // a team member
let bobId: string;
const PROPAGATION_BOUND_MS = 2000;

const announcementOn = (enabled: boolean) => ({
  kind: 'boolean',
  enabled,
  default_value: false,
  rules: [{ percentage: 100, value: true }],
});

beforeAll(async () => {
  gateway = await startTestGateway('flags_api');
  ops = (await devLogin(gateway.app, 'ops@demo.local')).token;
  const bobSession = await devLogin(gateway.app, 'bob@demo.local');
  bob = bobSession.token;
  bobId = bobSession.userId;
});
afterAll(async () => gateway?.close());

describe('GET /api/flags', () => {
  it("evaluates every flag for the caller: the risky features are on in test, the city's banner off", async () => {
    const answer = await call<{ environment: string; flags: Record<string, { value: unknown; reason: string }> }>(
      gateway.app,
      'GET',
      '/api/flags',
      {
        token: bob,
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.environment).toBe('test');
    expect(answer.body.flags.agents).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(answer.body.flags['city.announcement']).toMatchObject({ value: false, reason: 'DISABLED' });
    expect((await call(gateway.app, 'GET', '/api/flags')).status).toBe(401);
  });
});

describe('changing a flag', () => {
  it('is for platform admins only: a team owner gets 403 capability_missing naming flag.manage', async () => {
    const alice = (await devLogin(gateway.app, 'alice@demo.local')).token;
    for (const [method, path] of [
      ['GET', '/api/flags/definitions'],
      ['PUT', '/api/flags/definitions/city.announcement'],
    ] as const) {
      const answer = await call(gateway.app, method, path, {
        token: alice,
        body: method === 'PUT' ? { flag: announcementOn(true) } : undefined,
      });
      expect(answer.status).toBe(403);
      expect(expectErrorShape(answer)).toMatchObject({ code: 'capability_missing' });
      expect(expectErrorShape(answer).message).toContain('flag.manage');
    }
  });

  it('refuses bad definitions and keys with 400 and a reason', async () => {
    const bad = [
      { flag: { kind: 'boolean', enabled: true, default_value: 'yes' } },
      { flag: { kind: 'variant', enabled: true, variants: ['a'], default_value: 'b' } },
      { flag: { kind: 'boolean', enabled: true, default_value: false, rules: [{ percentage: 150, value: true }] } },
      { flag: { kind: 'boolean', enabled: true, default_value: false, rules: [{ teams: ['not-a-uuid'], value: true }] } },
      { flag: { kind: 'boolean', enabled: true, default_value: false, extra: 1 } },
    ];
    for (const body of bad) {
      const answer = await call(gateway.app, 'PUT', '/api/flags/definitions/city.announcement', { token: ops, body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(expectErrorShape(answer).code).toBe('invalid_body');
    }
    const badKey = await call(gateway.app, 'PUT', '/api/flags/definitions/Not%20A%20Key', {
      token: ops,
      body: { flag: announcementOn(true) },
    });
    expect(badKey.status).toBe(400);
  });

  it('is audited, versioned, refused on a stale version, and reaches another store and a worker process within 2 s', async () => {
    // another process's view: a flag store on its own connection, and the CLI a worker would be
    const otherSql = createDatabase(databaseVariables(gateway.database) as never);
    const other: FlagStore = createFlagStore(otherSql, { environment: 'test', logger: createLogger({ level: 'error' }) });
    await other.ready();
    const cli = spawn(process.execPath, ['--import', 'tsx', 'scripts/flags.ts', 'watch', 'city.announcement', '--user', bobId], {
      env: {
        PATH: process.env.PATH,
        ENV_FILE: '/nonexistent/.env',
        APP_ENV: 'test',
        LOG_LEVEL: 'error',
        ...databaseVariables(gateway.database),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const seen: { value: unknown; version: number; at: number }[] = [];
    createInterface({ input: cli.stdout! }).on('line', (line) => seen.push({ ...JSON.parse(line), at: Date.now() }));
    try {
      await waitUntil(() => seen.length > 0, 20_000);
      expect(seen[0]).toMatchObject({ value: false, version: 1 });

      const before = (
        await call<{ items: { key: string; version: number }[] }>(gateway.app, 'GET', '/api/flags/definitions', { token: ops })
      ).body;
      const version = before.items.find((f) => f.key === 'city.announcement')!.version;
      const changedAt = Date.now();
      const put = await call<{ version: number }>(gateway.app, 'PUT', '/api/flags/definitions/city.announcement', {
        token: ops,
        body: { flag: announcementOn(true), expected_version: version },
      });
      expect(put.status).toBe(200);
      expect(put.body.version).toBe(version + 1);

      await waitUntil(() => other.evaluate('city.announcement', { userId: bobId })?.value === true, PROPAGATION_BOUND_MS);
      const storeMs = Date.now() - changedAt;
      await waitUntil(() => seen.some((s) => s.version === version + 1), PROPAGATION_BOUND_MS);
      const cliMs = seen.find((s) => s.version === version + 1)!.at - changedAt;
      expect(seen.at(-1)).toMatchObject({ value: true });
      console.log(`flag change → other store ${storeMs} ms, worker process ${cliMs} ms`);

      // the gateway's own store serves it to Bob
      await waitUntil(async () => {
        const mine = await call<{ flags: Record<string, { value: unknown }> }>(gateway.app, 'GET', '/api/flags', { token: bob });
        return mine.body.flags['city.announcement']?.value === true;
      }, PROPAGATION_BOUND_MS);

      // the same change on the old version is refused and writes nothing
      const stale = await call(gateway.app, 'PUT', '/api/flags/definitions/city.announcement', {
        token: ops,
        body: { flag: announcementOn(false), expected_version: version },
      });
      expect(stale.status).toBe(409);
      expect(expectErrorShape(stale).code).toBe('flag_version_conflict');

      const [audit] = await gateway.database.sql<{ actor: string; before: number; after: number; enabled: boolean }[]>`
        select actor_id::text as actor, (details -> 'before' ->> 'version')::int as before,
          (details -> 'after' ->> 'version')::int as after, (details -> 'after' ->> 'enabled')::boolean as enabled
        from public.audit_log where action = 'flag.changed' and request_id = ${put.headers.get('x-request-id')}`;
      expect(audit).toMatchObject({ before: version, after: version + 1, enabled: true });
      expect(audit!.actor).toBe('00000000-0000-4000-8000-0000000000a1');
      expect(await gateway.database.sql`select 1 from public.audit_log where action = 'flag.changed'`).toHaveLength(1);

      // the kill switch: off for everyone at once
      const killed = await call(gateway.app, 'PUT', '/api/flags/definitions/city.announcement', {
        token: ops,
        body: { flag: announcementOn(false) },
      });
      expect(killed.status).toBe(200);
      await waitUntil(
        () => seen.at(-1)?.value === false && other.evaluate('city.announcement', { userId: bobId })?.reason === 'DISABLED',
        PROPAGATION_BOUND_MS,
      );
    } finally {
      cli.kill('SIGTERM');
      await other.close();
      await otherSql.end({ timeout: 1 });
    }
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

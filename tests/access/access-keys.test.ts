// Access keys end to end, on the real stack: created by a team admin (shown once, stored as a hash), used by
// an agent to act as its own principal under RLS, rotated with an overlap, revoked — and refused by two other
// gateway processes (under Deno, as deployed) within 5 seconds. Every way a key can be wrong has its own code,
// and a key never reaches a log line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAccessKey } from '../../functions/_shared/access-keys.ts';
import { KEY_CACHE_MS } from '../../functions/api/core/access-key-auth.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { seedIds } from '../harness/database.ts';
import { startDenoGateway, type DenoGateway } from '../harness/deno-gateway.ts';
import {
  call,
  createAccessKey,
  devLogin,
  expectErrorShape,
  startTestGateway,
  testEnvironment,
  type Session,
  type TestGateway,
} from '../api/helpers.ts';

let gateway: TestGateway;
let alice: Session; // owner of the demo team
let bob: Session; // a plain member
const others: DenoGateway[] = [];

beforeAll(async () => {
  gateway = await startTestGateway('access_keys');
  alice = await devLogin(gateway.app, 'alice@demo.local');
  bob = await devLogin(gateway.app, 'bob@demo.local');
  // two more gateway instances on the same database, each with its own key cache
  others.push(
    ...(await Promise.all(
      [0, 1].map(() => startDenoGateway({ env: testEnvironment(gateway.database, { LOG_LEVEL: 'warn' }), timeoutMs: 120_000 })),
    )),
  );
}, 180_000);
afterAll(async () => {
  await Promise.all(others.map((other) => other.stop()));
  await gateway?.close();
});

async function over(instance: DenoGateway, path: string, key: string): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${instance.url}${path}`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

describe('an access key', () => {
  it('is shown once at creation, stored only as its hash, listed without it, and audited', async () => {
    const answer = await call<{ key: string; access_key: { id: string; display_prefix: string; principal: { kind: string } } }>(
      gateway.app,
      'POST',
      `/api/teams/${seedIds.demoTeam}/keys`,
      {
        token: alice.token,
        body: { name: 'summarizer', bundle: 'agent', expires_in_days: 30, principal: { kind: 'agent', name: 'Summarizer' } },
      },
    );
    expect(answer.status).toBe(201);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body.key).toMatch(/^mdao_test_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$/);
    expect(answer.body.key.startsWith(answer.body.access_key.display_prefix)).toBe(true);
    expect(answer.body.access_key.principal.kind).toBe('agent');

    const listed = await call<{ items: Record<string, unknown>[] }>(gateway.app, 'GET', `/api/teams/${seedIds.demoTeam}/keys`, {
      token: alice.token,
    });
    expect(JSON.stringify(listed.body)).not.toContain(answer.body.key);
    const [stored] = await gateway.database.sql<{ hash: string }[]>`
      select encode(key_hash, 'hex') as hash from public.access_keys where id = ${answer.body.access_key.id}`;
    expect(stored!.hash).toMatch(/^[0-9a-f]{64}$/);
    const [audit] = await gateway.database.sql<{ action: string; actor_id: string }[]>`
      select action, actor_id from public.audit_log where target_id = ${answer.body.access_key.id}`;
    expect(audit).toEqual({ action: 'key.created', actor_id: alice.userId });
    // nothing of the key in the gateway's logs
    expect(gateway.logs.join('\n')).not.toContain(answer.body.key.slice(10, 42));
  });

  it('acts as its own principal under RLS: posts as the agent in its team, sees nothing of another team', async () => {
    const { key, principalId } = await createAccessKey(gateway.app, alice.token, seedIds.demoTeam);
    const me = await call<{ kind: string; id: string; key: { team_id: string; bundle: string } }>(gateway.app, 'GET', '/api/me', {
      token: key,
    });
    expect(me.body).toMatchObject({ kind: 'key', id: principalId, key: { team_id: seedIds.demoTeam, bundle: 'agent' } });

    const posted = await call<{ author_id: string }>(gateway.app, 'POST', '/api/messages', {
      token: key,
      body: { channel_id: seedIds.generalChannel, body: 'Summary: all quiet.' },
    });
    expect(posted.status).toBe(201);
    expect(posted.body.author_id).toBe(principalId);
    // the agent is not a member: it cannot create teams (account capability), nor read a team it has no key for
    expect(expectErrorShape(await call(gateway.app, 'POST', '/api/teams', { token: key, body: { name: 'Agent Co' } })).code).toBe(
      'capability_missing',
    );
    const carol = await devLogin(gateway.app, 'carol-keys@demo.local');
    const carolsTeam = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: carol.token, body: { name: 'Carol Co' } });
    const elsewhere = await call(gateway.app, 'GET', `/api/channels?team_id=${carolsTeam.body.id}`, { token: key });
    expect([elsewhere.status, expectErrorShape(elsewhere).code]).toEqual([404, 'team_not_found']);
    // and its bundle bounds it: the agent bundle does not manage keys
    const keys = await call(gateway.app, 'GET', `/api/teams/${seedIds.demoTeam}/keys`, { token: key });
    expect([keys.status, expectErrorShape(keys).code]).toEqual([403, 'capability_missing']);
  });

  it('rotates with an overlap: old and new both work until the overlap ends, then only the new one', async () => {
    const old = await createAccessKey(gateway.app, alice.token, seedIds.demoTeam);
    const rotated = await call<{ key: string; access_key: { id: string; principal: { id: string }; rotated_from: string } }>(
      gateway.app,
      'POST',
      `/api/teams/${seedIds.demoTeam}/keys/${old.keyId}/rotate`,
      { token: alice.token, body: { expires_in_days: 30, overlap_seconds: 2 } },
    );
    expect(rotated.status).toBe(201);
    expect(rotated.body.access_key).toMatchObject({ rotated_from: old.keyId, principal: { id: old.principalId } });
    expect((await call(gateway.app, 'GET', '/api/me', { token: old.key })).status).toBe(200);
    expect((await call(gateway.app, 'GET', '/api/me', { token: rotated.body.key })).status).toBe(200);
    await waitUntil('the old key to expire', async () => (await call(gateway.app, 'GET', '/api/me', { token: old.key })).status === 401, {
      timeoutMs: 2000 + KEY_CACHE_MS + 5000,
      intervalMs: 250,
    });
    expect(expectErrorShape(await call(gateway.app, 'GET', '/api/me', { token: old.key })).code).toBe('key_expired');
    expect((await call(gateway.app, 'GET', '/api/me', { token: rotated.body.key })).status).toBe(200);
    const [audit] = await gateway.database.sql`select action from public.audit_log where target_id = ${rotated.body.access_key.id}`;
    expect(audit).toEqual({ action: 'key.rotated' });
  });

  it('once revoked, is refused by every gateway instance within 5 seconds', async () => {
    const { key, keyId } = await createAccessKey(gateway.app, alice.token, seedIds.demoTeam);
    // both instances have the key in their caches
    for (const instance of others) expect(await over(instance, '/api/me', key)).toEqual({ status: 200, code: undefined });
    const revoked = await call(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/keys/${keyId}/revoke`, { token: alice.token });
    expect(revoked.status).toBe(200);
    const revokedAt = Date.now();
    const refusedAfter = await Promise.all(
      others.map(async (instance) => {
        await waitUntil('the instance to refuse the revoked key', async () => (await over(instance, '/api/me', key)).status === 401, {
          timeoutMs: 10_000,
          intervalMs: 100,
        });
        return Date.now() - revokedAt;
      }),
    );
    for (const ms of refusedAfter) expect(ms).toBeLessThanOrEqual(5000);
    for (const instance of others) expect(await over(instance, '/api/me', key)).toEqual({ status: 401, code: 'key_revoked' });
    // the database refuses a revoked key at once, whatever a cache still says: no write goes through
    const [live] = await gateway.database.sql`select revoked_at is not null as revoked from public.access_keys where id = ${keyId}`;
    expect(live).toEqual({ revoked: true });
    const again = await call(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/keys/${keyId}/revoke`, { token: alice.token });
    expect(expectErrorShape(again).code).toBe('key_already_revoked');
  });

  it('is refused with a distinct code when malformed, mistyped, of another environment, unknown or expired', async () => {
    const { key, keyId } = await createAccessKey(gateway.app, alice.token, seedIds.demoTeam);
    const flipped = `${key.slice(0, 20)}${key[20] === 'A' ? 'B' : 'A'}${key.slice(21)}`;
    const prod = (await generateAccessKey('prod')).key;
    const unknown = (await generateAccessKey('test')).key;
    const cases: [string, string][] = [
      ['mdao_test_tooshort_abcdef', 'key_malformed'],
      [flipped, 'key_checksum_mismatch'],
      [prod, 'key_wrong_environment'],
      [unknown, 'key_unknown'],
    ];
    for (const [candidate, code] of cases) {
      const answer = await call(gateway.app, 'GET', '/api/me', { token: candidate });
      expect([answer.status, expectErrorShape(answer).code], candidate.slice(0, 12)).toEqual([401, code]);
      expect(JSON.stringify(answer.body)).not.toContain(candidate);
    }
    await gateway.database.sql`
      update public.access_keys set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = ${keyId}`;
    await waitUntil('the expiry to show', async () => (await call(gateway.app, 'GET', '/api/me', { token: key })).status === 401, {
      timeoutMs: KEY_CACHE_MS + 5000,
      intervalMs: 250,
    });
    expect(expectErrorShape(await call(gateway.app, 'GET', '/api/me', { token: key })).code).toBe('key_expired');
  });

  it('records its use at most once a minute', async () => {
    const { key, keyId } = await createAccessKey(gateway.app, alice.token, seedIds.demoTeam);
    for (let i = 0; i < 5; i += 1) expect((await call(gateway.app, 'GET', '/api/me', { token: key })).status).toBe(200);
    const lastUsed = async () =>
      (await gateway.database.sql<{ at: string | null }[]>`select last_used_at::text as at from public.access_keys where id = ${keyId}`)[0]!
        .at;
    await waitUntil('last_used_at to be written', async () => (await lastUsed()) !== null, { timeoutMs: 5000, intervalMs: 100 });
    const first = await lastUsed();
    for (let i = 0; i < 5; i += 1) await call(gateway.app, 'GET', '/api/me', { token: key });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lastUsed()).toBe(first);
  });

  it('is created only within the bounds: a key bundle, an expiry of 1 to 365 days, by a holder of key.manage', async () => {
    const create = (token: string, body: Record<string, unknown>) =>
      call(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/keys`, {
        token,
        body: { name: 'x', bundle: 'agent', expires_in_days: 30, principal: { kind: 'agent', name: 'X' }, ...body },
      });
    expect(expectErrorShape(await create(alice.token, { bundle: 'owner' })).code).toBe('bundle_not_for_keys');
    expect(expectErrorShape(await create(alice.token, { bundle: 'no-such-bundle' })).code).toBe('bundle_not_for_keys');
    expect(expectErrorShape(await create(alice.token, { expires_in_days: 366 })).code).toBe('invalid_body');
    expect(expectErrorShape(await create(alice.token, { expires_in_days: 0 })).code).toBe('invalid_body');
    const byMember = await create(bob.token, {});
    expect([byMember.status, expectErrorShape(byMember)]).toEqual([
      403,
      expect.objectContaining({ code: 'capability_missing', message: expect.stringContaining('key.manage') }),
    ]);
    // a refused privileged call is audited, with the capability it lacked
    const [denial] = await gateway.database.sql<{ actor_id: string; details: { capability: string } }[]>`
      select actor_id, details from public.audit_log where action = 'capability.denied' order by id desc limit 1`;
    expect(denial).toMatchObject({ actor_id: bob.userId, details: { capability: 'key.manage' } });
  });
});

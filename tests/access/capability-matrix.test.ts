// Every bundle × every messaging (and team access and wallet) route: each principal — people holding the owner, admin and member role bundles,
// and access keys carrying each key bundle plus an empty one — calls each route of the messaging domain with a
// request that would succeed, in its own team. A principal whose bundle holds the route's capability gets a 2xx;
// one whose bundle lacks it gets 403 capability_missing naming the capability, and nothing is written. The
// expectation is computed from the database's bundles and the routes' own declarations, so a change to either
// is tested as it is made; a messaging route without a request builder here fails the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { CAPABILITIES, type Capability } from '../../functions/_shared/capabilities.ts';
import { safeTransactionOf } from '../../functions/_shared/safe-transaction.ts';
import { seedIds } from '../harness/database.ts';
import { call, createAccessKey, devLogin, startTestGateway, type Answer, type TestGateway } from '../api/helpers.ts';
import { appRoutes, type OpenApiDocument } from '../api/routes.ts';

let gateway: TestGateway;
let document: OpenApiDocument;
const team = seedIds.demoTeam;

interface Principal {
  label: string;
  token: string;
  kind: 'user' | 'key';
  /** The bundle it holds in the demo team. */
  bundle: string;
  /** A person's email (invitations are addressed to it). */
  email?: string;
  /** A person's account id (keys: their service principal's is not needed). */
  userId?: string;
}
const principals: Principal[] = [];
let bundles: Map<string, Set<string>>;
/** Founds the other teams the invitation and leave routes need (so nobody leaves the demo team). */
let founder: string;

const MESSAGING_PREFIXES = ['/api/teams', '/api/invitations', '/api/channels', '/api/messages', '/api/live'];
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  gateway = await startTestGateway('access_matrix');
  document = (await call<OpenApiDocument>(gateway.app, 'GET', '/api/openapi.json')).body;
  const sql = gateway.database.sql;
  // a key bundle holding nothing: deny by default, route by route
  await sql`insert into public.bundles (name, granted_to, description) values ('nothing', 'key', 'Holds no capability (test)')`;

  const alice = await devLogin(gateway.app, 'alice@demo.local'); // owner
  const bob = await devLogin(gateway.app, 'bob@demo.local'); // member
  const ada = await devLogin(gateway.app, 'ada-admin@demo.local');
  founder = (await devLogin(gateway.app, 'founder@elsewhere.test')).userId;
  await sql`insert into public.team_members (team_id, user_id, role) values (${team}, ${ada.userId}, 'admin')`;
  principals.push(
    { label: 'owner (role bundle)', token: alice.token, kind: 'user', bundle: 'owner', email: alice.email, userId: alice.userId },
    { label: 'admin (role bundle)', token: ada.token, kind: 'user', bundle: 'admin', email: ada.email, userId: ada.userId },
    { label: 'member (role bundle)', token: bob.token, kind: 'user', bundle: 'member', email: bob.email, userId: bob.userId },
  );
  for (const bundle of ['agent', 'read-only', 'embassy-partner', 'nothing']) {
    const { key } = await createAccessKey(gateway.app, alice.token, team, { bundle });
    principals.push({ label: `key (${bundle})`, token: key, kind: 'key', bundle });
  }
  const rows = await sql<{ bundle: string; capabilities: string[] }[]>`
    select b.name as bundle, coalesce(array_agg(bc.capability) filter (where bc.capability is not null), '{}') as capabilities
    from public.bundles b left join public.bundle_capabilities bc on bc.bundle = b.name group by b.name`;
  bundles = new Map(rows.map((row) => [row.bundle, new Set(row.capabilities)]));
}, 120_000);
afterAll(async () => {
  await gateway?.close();
});

/** Whether the principal holds `capability` in the demo team, by the catalog's scope rules. */
function holds(principal: Principal, capability: Capability): boolean {
  const { scope } = CAPABILITIES[capability];
  if (scope === 'principal') return true;
  if (scope === 'account') return principal.kind === 'user';
  if (scope === 'platform') return false; // none of these is a platform admin
  return bundles.get(principal.bundle)?.has(capability) ?? false;
}

interface Call {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The capability the call needs when it differs from the route's declaration (the handler checks the rest). */
  needs?: Capability;
}

const asAlice = () => principals[0]!.token;

async function aliceMessage(): Promise<string> {
  const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
    token: asAlice(),
    body: { channel_id: seedIds.generalChannel, body: unique('from alice') },
  });
  return posted.body.id;
}

/** A request that succeeds for a principal holding the capability, per messaging route (by route key). */
const requests: Record<string, (p: Principal) => Promise<Call>> = {
  'POST /api/teams': async () => ({ method: 'POST', path: '/api/teams', body: { name: unique('team') } }),
  'GET /api/teams': async () => ({ method: 'GET', path: '/api/teams' }),
  'GET /api/teams/{teamId}/members': async () => ({ method: 'GET', path: `/api/teams/${team}/members` }),
  'POST /api/teams/{teamId}/invitations': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/invitations`,
    body: { email: `${unique('invitee')}@demo.local`, role: 'member' },
  }),
  'GET /api/teams/{teamId}/invitations': async () => ({ method: 'GET', path: `/api/teams/${team}/invitations` }),
  'POST /api/teams/{teamId}/invitations/{invitationId}/revoke': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/invitations/${await invitation(team, `${unique('revoked')}@demo.local`)}/revoke`,
  }),
  'GET /api/invitations/mine': async () => ({ method: 'GET', path: '/api/invitations/mine' }),
  'POST /api/invitations/{invitationId}/accept': async (p) => ({
    method: 'POST',
    path: `/api/invitations/${await invitation(await otherTeam(), p.email ?? 'nobody@demo.local')}/accept`,
  }),
  'POST /api/invitations/{invitationId}/decline': async (p) => ({
    method: 'POST',
    path: `/api/invitations/${await invitation(await otherTeam(), p.email ?? 'nobody@demo.local')}/decline`,
  }),
  'POST /api/teams/{teamId}/leave': async (p) => {
    const other = await otherTeam();
    if (p.kind === 'user') {
      const [me] = await gateway.database.sql<{ id: string }[]>`select id from public.profiles where email = ${p.email!}`;
      await gateway.database.sql`insert into public.team_members (team_id, user_id, role) values (${other}, ${me!.id}, 'member')`;
    }
    return { method: 'POST', path: `/api/teams/${other}/leave` };
  },
  'POST /api/channels': async () => ({ method: 'POST', path: '/api/channels', body: { team_id: team, name: unique('ch') } }),
  'GET /api/channels': async () => ({ method: 'GET', path: `/api/channels?team_id=${team}` }),
  'POST /api/channels/{channelId}/archive': async () => {
    // someone else's channel: archiving it takes channel.manage (a creator archives their own with channel.create)
    const created = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
      token: asAlice(),
      body: { team_id: team, name: unique('archive') },
    });
    return { method: 'POST', path: `/api/channels/${created.body.id}/archive`, needs: 'channel.manage' };
  },
  'POST /api/messages': async () => ({
    method: 'POST',
    path: '/api/messages',
    body: { channel_id: seedIds.generalChannel, body: unique('hi') },
  }),
  'GET /api/messages': async () => ({ method: 'GET', path: `/api/messages?channel_id=${seedIds.generalChannel}` }),
  'PATCH /api/messages/{messageId}': async (p) => ({
    method: 'PATCH',
    path: `/api/messages/${await ownMessage(p)}`,
    body: { body: 'edited' },
  }),
  'DELETE /api/messages/{messageId}': async (p) => ({ method: 'DELETE', path: `/api/messages/${await ownMessage(p)}` }),
  'POST /api/messages/{messageId}/followups': async () => ({
    method: 'POST',
    path: `/api/messages/${await aliceMessage()}/followups`,
    body: { body: unique('reply') },
  }),
  'GET /api/messages/{messageId}/followups': async () => ({ method: 'GET', path: `/api/messages/${seedIds.welcomeMessage}/followups` }),
  'GET /api/live': async () => ({ method: 'GET', path: '/api/live' }),
  // the access routes under /api/teams: keys and role grants
  'GET /api/teams/{teamId}/keys': async () => ({ method: 'GET', path: `/api/teams/${team}/keys` }),
  'POST /api/teams/{teamId}/keys': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/keys`,
    body: { name: unique('key'), bundle: 'read-only', expires_in_days: 7, principal: { kind: 'integration', name: unique('int') } },
  }),
  'POST /api/teams/{teamId}/keys/{keyId}/rotate': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/keys/${(await createAccessKey(gateway.app, asAlice(), team)).keyId}/rotate`,
    body: { expires_in_days: 7, overlap_seconds: 0 },
  }),
  'POST /api/teams/{teamId}/keys/{keyId}/revoke': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/keys/${(await createAccessKey(gateway.app, asAlice(), team)).keyId}/revoke`,
  }),
  'GET /api/teams/{teamId}/grants': async () => ({ method: 'GET', path: `/api/teams/${team}/grants` }),
  'POST /api/teams/{teamId}/grants': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/grants`,
    body: { role: 'member', bundle: await roleBundle() },
  }),
  'DELETE /api/teams/{teamId}/grants/{role}/{bundle}': async () => {
    const bundle = await roleBundle();
    await gateway.database.sql`insert into public.team_role_bundles (team_id, role, bundle) values (${team}, 'member', ${bundle})`;
    return { method: 'DELETE', path: `/api/teams/${team}/grants/member/${bundle}` };
  },
  // the Embassy routes under /api/teams: the RWA inventory and partner links
  'GET /api/teams/{teamId}/rwa/inventory': async () => ({ method: 'GET', path: `/api/teams/${team}/rwa/inventory` }),
  'GET /api/teams/{teamId}/rwa/movements': async () => ({ method: 'GET', path: `/api/teams/${team}/rwa/movements` }),
  'GET /api/teams/{teamId}/embassy/links': async () => ({ method: 'GET', path: `/api/teams/${team}/embassy/links` }),
  'POST /api/teams/{teamId}/embassy/links': async () => {
    await gateway.database.sql`delete from public.embassy_team_links where team_id = ${team} and partner = 'greenfood'`;
    return { method: 'POST', path: `/api/teams/${team}/embassy/links`, body: { partner: 'greenfood' } };
  },
  'DELETE /api/teams/{teamId}/embassy/links/{partner}': async () => {
    await gateway.database.sql`
      insert into public.embassy_team_links (partner, team_id) values ('water-union', ${team}) on conflict do nothing`;
    return { method: 'DELETE', path: `/api/teams/${team}/embassy/links/water-union` };
  },
  // the wallet routes under /api/teams
  'POST /api/teams/{teamId}/payouts': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/payouts`,
    headers: { 'idempotency-key': unique('idem') },
    body: { chain_id: 31337, token: `0x${'a'.repeat(40)}`, recipient: `0x${'b'.repeat(40)}`, amount: '5' },
  }),
  'GET /api/teams/{teamId}/payouts': async () => ({ method: 'GET', path: `/api/teams/${team}/payouts` }),
  'GET /api/teams/{teamId}/payouts/{payoutId}': async () => ({
    method: 'GET',
    path: `/api/teams/${team}/payouts/${await requestedPayout()}`,
  }),
  'POST /api/teams/{teamId}/payouts/{payoutId}/approve': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/payouts/${await requestedPayout()}/approve`,
  }),
  // one's own request: cancelling another's takes payout.approve (the database checks it)
  'POST /api/teams/{teamId}/payouts/{payoutId}/cancel': async (p) => ({
    method: 'POST',
    path: `/api/teams/${team}/payouts/${await requestedPayout(p.userId)}/cancel`,
  }),
  'POST /api/teams/{teamId}/wallet/approval-threshold': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/wallet/approval-threshold`,
    body: { approval_threshold: 1 },
  }),
  'GET /api/teams/{teamId}/wallet/balances': async () => ({ method: 'GET', path: `/api/teams/${team}/wallet/balances` }),
  'GET /api/teams/{teamId}/wallet/tokens': async () => ({ method: 'GET', path: `/api/teams/${team}/wallet/tokens` }),
  'POST /api/teams/{teamId}/wallet/credits': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/wallet/credits`,
    body: { member_id: seedIds.bob, amount: '3' },
  }),
  'POST /api/teams/{teamId}/wallet/member-wallets': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/wallet/member-wallets`,
    body: { chain_id: 31337, address: privateKeyToAccount(generatePrivateKey()).address },
  }),
  'POST /api/teams/{teamId}/wallet/safe': async () => ({
    method: 'POST',
    path: `/api/teams/${team}/wallet/safe`,
    body: { chain_id: 31337, safe_address: privateKeyToAccount(generatePrivateKey()).address },
  }),
  'GET /api/teams/{teamId}/payouts/{payoutId}/safe-transaction': async () => ({
    method: 'GET',
    path: `/api/teams/${team}/payouts/${(await safePayout()).id}/safe-transaction`,
  }),
  // the approver's own registered wallet signs the payout's SafeTx
  'POST /api/teams/{teamId}/payouts/{payoutId}/approve-safe': async (p) => {
    const payout = await safePayout();
    const key = privateKeyToAccount(generatePrivateKey());
    if (p.userId)
      await gateway.database.sql`insert into public.wallets (team_id, kind, owner_id, chain_id, address)
                                 values (${team}, 'member', ${p.userId}, 31337, ${key.address.toLowerCase()})`;
    const signature = await key.signTypedData(safeTransactionOf(payout) as never);
    return { method: 'POST', path: `/api/teams/${team}/payouts/${payout.id}/approve-safe`, body: { signature } };
  },
  'GET /api/teams/{teamId}/stakes': async () => ({ method: 'GET', path: `/api/teams/${team}/stakes` }),
  'POST /api/teams/{teamId}/stakes': async (p) => {
    await creditsFor(p.userId);
    return { method: 'POST', path: `/api/teams/${team}/stakes`, body: { amount: '2', lock_days: 0 } };
  },
  'POST /api/teams/{teamId}/stakes/{stakeId}/withdraw': async (p) => ({
    method: 'POST',
    path: `/api/teams/${team}/stakes/${await ownStake(p)}/withdraw`,
  }),
};

/** A fresh team founded by someone else than the principals. */
async function otherTeam(): Promise<string> {
  const [row] = await gateway.database.sql<{ id: string }[]>`
    insert into public.teams (name, created_by) values (${unique('other')}, ${founder}) returning id`;
  return row!.id;
}

/** A pending invitation of `email` to `teamId`, written behind the API. */
async function invitation(teamId: string, email: string): Promise<string> {
  const [row] = await gateway.database.sql<{ id: string }[]>`
    insert into public.team_invitations (team_id, email, invited_by, expires_at)
    values (${teamId}, ${email.toLowerCase()}, ${founder}, now() + interval '1 day') returning id`;
  return row!.id;
}

/** A requested payout of the demo team (threshold 1), recorded directly; by `requester`, else by Bob. */
async function requestedPayout(requester: string = seedIds.bob): Promise<string> {
  // a Safe set by the matrix's own POST …/wallet/safe would make it a Safe payout (plain approval refused)
  await gateway.database.sql`update public.wallet_settings set safe_chain_id = null, safe_address = null where team_id = ${team}`;
  const [row] = await gateway.database.sql<{ id: string }[]>`
    insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
    values (${team}, ${requester}, 31337, ${'0x' + 'a'.repeat(40)}, ${'0x' + 'b'.repeat(40)}, 5, ${unique('idem')}, ${'c'.repeat(64)})
    returning id`;
  return row!.id;
}

/** A payout of the demo team paid by a Safe, requested by Bob; the team's Safe is unset again afterwards, so the
    other payouts of the matrix stay plain. */
async function safePayout() {
  const safe = `0x${'5'.repeat(40)}`;
  const token = `0x${'a'.repeat(40)}`;
  const recipient = `0x${'b'.repeat(40)}`;
  const [row] = await gateway.database.sql.begin(async (tx) => {
    await tx`insert into public.wallet_settings (team_id, safe_chain_id, safe_address) values (${team}, 31337, ${safe})
             on conflict (team_id) do update set safe_chain_id = excluded.safe_chain_id, safe_address = excluded.safe_address`;
    const made = await tx<{ id: string; safe_nonce: string }[]>`
      insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
      values (${team}, ${seedIds.bob}, 31337, ${token}, ${recipient}, 5, ${unique('idem')}, ${'c'.repeat(64)})
      returning id, safe_nonce::text`;
    await tx`update public.wallet_settings set safe_chain_id = null, safe_address = null where team_id = ${team}`;
    return made;
  });
  return {
    id: row!.id,
    chainId: 31337,
    safe: safe as `0x${string}`,
    safeNonce: BigInt(row!.safe_nonce),
    token: token as `0x${string}`,
    recipient: recipient as `0x${string}`,
    amount: 5n,
  };
}

/** Gives a person spendable credits in the demo team (as the database owner, past the API). */
async function creditsFor(userId: string | undefined): Promise<void> {
  if (!userId) return;
  await gateway.database
    .sql`select app.post_ledger_transfer(${team}, 'credit_grant', 'issuance', ${'member:' + userId}, 10, 'matrix', null)`;
}

/** A stake of the principal without lock (so it can be withdrawn now); a dummy id for keys (refused first). */
async function ownStake(p: Principal): Promise<string> {
  if (!p.userId) return '00000000-0000-4000-8000-00000000beef';
  await creditsFor(p.userId);
  const [row] = await gateway.database.sql<{ id: string }[]>`
    insert into public.staking_ringk (team_id, user_id, amount, lock_days, locked_until) values (${team}, ${p.userId}, 1, 0, now())
    returning id`;
  await gateway.database
    .sql`select app.post_ledger_transfer(${team}, 'stake', ${'member:' + p.userId}, ${'staked:' + p.userId}, 1, '', null)`;
  return row!.id;
}

/** A fresh, empty role bundle, so each grant is new. */
async function roleBundle(): Promise<string> {
  const name = unique('extra').toLowerCase();
  await gateway.database.sql`insert into public.bundles (name, granted_to, description) values (${name}, 'role', 'test')`;
  return name;
}

/** A message the principal wrote, when it can write; else Alice's (the call is refused before it matters). */
async function ownMessage(p: Principal): Promise<string> {
  if (!holds(p, 'message.write')) return aliceMessage();
  const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
    token: p.token,
    body: { channel_id: seedIds.generalChannel, body: unique('mine') },
  });
  return posted.body.id;
}

/** The live stream answers with headers and then streams: take the status, then hang up. */
async function send(p: Principal, request: Call): Promise<Pick<Answer, 'status' | 'body'>> {
  if (request.path === '/api/live') {
    const controller = new AbortController();
    const response = await gateway.app.request('/api/live', { headers: { authorization: `Bearer ${p.token}` }, signal: controller.signal });
    const body = response.status === 200 ? null : await response.json();
    controller.abort();
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, body };
  }
  return call(gateway.app, request.method, request.path, { token: p.token, body: request.body, headers: request.headers });
}

const outboxCount = async () => Number((await gateway.database.sql`select count(*)::int as n from public.outbox_events`)[0]!.n);

describe('the messaging domain, bundle by bundle', () => {
  it('allows exactly what each bundle holds and refuses the rest with 403 capability_missing, writing nothing', async () => {
    const routes = appRoutes(gateway.app).filter((route) => MESSAGING_PREFIXES.some((prefix) => route.path.startsWith(prefix)));
    const missing = routes.filter((route) => !requests[route.key]).map((route) => route.key);
    expect(missing, 'messaging routes without a request in this matrix: add one').toEqual([]);

    const mismatches: string[] = [];
    let allowed = 0;
    let refused = 0;
    for (const route of routes) {
      const declared = (document.paths[route.openApiPath]?.[route.method.toLowerCase()] as { 'x-capability'?: Capability })[
        'x-capability'
      ]!;
      for (const principal of principals) {
        const request = await requests[route.key]!(principal);
        // the PEP refuses on the declared capability first; the handler on a stricter one it checks itself
        const needs = holds(principal, declared) ? (request.needs ?? declared) : declared;
        const expectAllowed = holds(principal, needs);
        const before = expectAllowed ? 0 : await outboxCount();
        const answer = await send(principal, request);
        const error = (answer.body as { error?: { code: string; message: string } } | null)?.error;
        if (expectAllowed) {
          allowed += 1;
          if (answer.status >= 300) mismatches.push(`${principal.label} × ${route.key}: expected 2xx, got ${answer.status} ${error?.code}`);
        } else {
          refused += 1;
          if (answer.status !== 403 || error?.code !== 'capability_missing' || !error.message.includes(needs)) {
            mismatches.push(
              `${principal.label} × ${route.key}: expected 403 capability_missing (${needs}), got ${answer.status} ${error?.code}`,
            );
          } else if ((await outboxCount()) !== before) {
            mismatches.push(`${principal.label} × ${route.key}: refused, yet an event was written`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    // the matrix exercises both outcomes broadly, not one of them only
    expect(allowed).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
    // ≈200 sequential requests: on a 2-core machine shared with other runs they can take longer than the default
  }, 120_000);
});

// The gift routes through the real app on real Postgres: a gift recorded as sent with its gift.sent event in
// one transaction, Idempotency-Key semantics as for payouts, refusals (over the available credits, to oneself,
// to a non-member, bad amounts) as 4xx with stable codes, the feed in cursor pages, tenancy, and the
// gift_fabric flag (off → 403 gift_fabric_disabled). The ledger invariant is checked in SQL after each test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createAccessKey, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';
import { waitFor } from '../relay/support/relay-env.ts';
import { expectLedgerBalanced } from './ledger-invariant.ts';

let gateway: TestGateway;
let owner: Session;
let mia: Session;
let ned: Session;
let outsider: Session;
let teamId: string;
let otherTeamId: string;

interface Gift {
  id: string;
  team_id: string;
  sender_id: string;
  recipient_id: string;
  amount: string;
  memo: string;
  status: string;
}

const gift = (to: Session, amount: string, memo = 'thanks') => ({ team_id: teamId, recipient_id: to.userId, amount, memo });
const sendGift = (from: Session, key: string, body: unknown) =>
  call<Gift>(gateway.app, 'POST', '/api/gifts', { token: from.token, headers: { 'idempotency-key': key }, body });
const feed = (as: Session, query = '') =>
  call<{ items: Gift[]; next_cursor: string | null }>(gateway.app, 'GET', `/api/gifts?team_id=${teamId}${query}`, { token: as.token });
const key = () => `gift-${crypto.randomUUID()}`;

beforeAll(async () => {
  gateway = await startTestGateway('gifts_api', { seed: false });
  [owner, mia, ned, outsider] = await Promise.all([
    devLogin(gateway.app, 'olga@gifts.test', 'Olga'),
    devLogin(gateway.app, 'mia@gifts.test', 'Mia'),
    devLogin(gateway.app, 'ned@gifts.test', 'Ned'),
    devLogin(gateway.app, 'otto@elsewhere.test', 'Otto'),
  ]);
  teamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Gift team' } })).body.id;
  otherTeamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: outsider.token, body: { name: 'Elsewhere' } })).body
    .id;
  await gateway.database.sql`
    insert into public.team_members (team_id, user_id, role) values (${teamId}, ${mia.userId}, 'member'), (${teamId}, ${ned.userId}, 'member')`;
  const granted = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/credits`, {
    token: owner.token,
    body: { member_id: mia.userId, amount: '1000', memo: 'welcome' },
  });
  expect(granted.status).toBe(201);
});
afterEach(async () => expectLedgerBalanced(gateway.database.sql));
afterAll(async () => gateway?.close());

describe('sending a gift', () => {
  it('records the gift as sent and its gift.sent event in the same transaction, moving nothing yet', async () => {
    const answer = await sendGift(mia, key(), gift(ned, '25'));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'sent', amount: '25', sender_id: mia.userId, recipient_id: ned.userId, memo: 'thanks' });
    const [event] = await gateway.database.sql<{ event_type: string; payload: { gift_id: string; amount: string } }[]>`
      select event_type, payload from public.outbox_events where aggregate_type = 'gift' and aggregate_id = ${answer.body.id}`;
    expect(event).toMatchObject({ event_type: 'gift.sent', payload: { gift_id: answer.body.id, amount: '25' } });
    const [moved] = await gateway.database.sql`select count(*)::int as n from public.ledger_transactions where kind = 'gift'`;
    expect(moved).toEqual({ n: 0 });
  });

  it('gives the same gift back for the same key and body, and 422 idempotency_key_reused for another body', async () => {
    const k = key();
    const first = await sendGift(mia, k, gift(ned, '7'));
    const again = await sendGift(mia, k, gift(ned, '7'));
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const reused = await sendGift(mia, k, gift(ned, '8'));
    expect(reused.status).toBe(422);
    expect(expectErrorShape(reused).code).toBe('idempotency_key_reused');
    const [rows] = await gateway.database.sql`select count(*)::int as n from public.gifts where idempotency_key = ${k}`;
    expect(rows).toEqual({ n: 1 });
  });

  it('settles concurrent requests with one key on one gift, even one that spends every available credit', async () => {
    const k = key();
    // Ned's whole balance: the requests that waited behind the first find its gift, not an overdraft
    await gateway.database
      .sql`select app.post_ledger_transfer(${teamId}, 'credit_grant', 'issuance', ${'member:' + ned.userId}, 9, '', null)`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => sendGift(ned, k, gift(mia, '9'))));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  });

  it('refuses at once a gift over the available credits (gifts in flight count as spent) with 422 insufficient_credits', async () => {
    const [row] = await gateway.database.sql<{ available: string }[]>`
      select app.available_credits(${teamId}, ${mia.userId})::text as available`;
    const over = await sendGift(mia, key(), gift(ned, String(BigInt(row!.available) + 1n)));
    expect(over.status).toBe(422);
    const error = expectErrorShape(over);
    expect(error.code).toBe('insufficient_credits');
    expect(error.message).toMatch(/available credits/);
    // Ned holds nothing: any gift from him is over his balance
    const broke = await sendGift(ned, key(), gift(mia, '1'));
    expect(expectErrorShape(broke).code).toBe('insufficient_credits');
  });

  it('refuses a gift to oneself, to a non-member, and zero, negative, fractional or non-numeric amounts', async () => {
    const self = await sendGift(mia, key(), gift(mia, '1'));
    expect([self.status, expectErrorShape(self).code]).toEqual([422, 'own_gift']);
    const stranger = await sendGift(mia, key(), gift(outsider, '1'));
    expect([stranger.status, expectErrorShape(stranger).code]).toEqual([422, 'recipient_not_member']);
    for (const amount of ['0', '-5', '1.5', 'ten', '', '1e3']) {
      const bad = await sendGift(mia, key(), gift(ned, amount));
      expect(bad.status, amount).toBe(400);
      expect(expectErrorShape(bad).code).toBe('invalid_body');
    }
    const numeric = await sendGift(mia, key(), { ...gift(ned, '1'), amount: 5 });
    expect(numeric.status).toBe(400);
    const noKey = await call(gateway.app, 'POST', '/api/gifts', { token: mia.token, body: gift(ned, '1') });
    expect([noKey.status, expectErrorShape(noKey).code]).toEqual([400, 'invalid_header']);
  });

  it('keeps teams apart: no gift into or within a team one is not in, no peeking at its feed', async () => {
    const into = await sendGift(outsider, key(), { team_id: teamId, recipient_id: mia.userId, amount: '1', memo: '' });
    expect([into.status, expectErrorShape(into).code]).toEqual([404, 'team_not_found']);
    const peek = await call(gateway.app, 'GET', `/api/gifts?team_id=${teamId}`, { token: outsider.token });
    expect([peek.status, expectErrorShape(peek).code]).toEqual([404, 'team_not_found']);
    const own = await call<{ items: Gift[] }>(gateway.app, 'GET', `/api/gifts?team_id=${otherTeamId}`, { token: outsider.token });
    expect(own.status).toBe(200);
    expect(own.body.items).toEqual([]);
  });

  it('refuses a gift sent with an access key: gifts are a person’s own credits', async () => {
    const created = await createAccessKey(gateway.app, owner.token, teamId);
    const answer = await call(gateway.app, 'POST', '/api/gifts', {
      token: created.key,
      headers: { 'idempotency-key': key() },
      body: gift(ned, '1'),
    });
    expect(answer.status).toBe(403);
    expect(['capability_missing', 'gift_needs_a_person']).toContain(expectErrorShape(answer).code);
  });
});

describe('the feed', () => {
  it('lists the team’s gifts newest first, in cursor pages that cover each gift once', async () => {
    for (let n = 0; n < 5; n += 1) expect((await sendGift(mia, key(), gift(ned, '1', `page ${n}`))).status).toBe(201);
    const seen: Gift[] = [];
    let cursor = '';
    for (let page = 0; page < 50; page += 1) {
      const answer = await feed(ned, `&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status).toBe(200);
      seen.push(...answer.body.items);
      if (!answer.body.next_cursor) break;
      cursor = answer.body.next_cursor;
    }
    const [count] = await gateway.database.sql<{ n: number }[]>`select count(*)::int as n from public.gifts where team_id = ${teamId}`;
    expect(seen).toHaveLength(count!.n);
    expect(new Set(seen.map((g) => g.id)).size).toBe(count!.n);
    expect(seen.slice(0, 5).map((g) => g.memo)).toEqual(['page 4', 'page 3', 'page 2', 'page 1', 'page 0']);
    const badCursor = await feed(ned, '&cursor=not-a-cursor');
    expect([badCursor.status, expectErrorShape(badCursor).code]).toEqual([400, 'invalid_query']);
  });
});

describe('the gift_fabric flag', () => {
  it('answers 403 gift_fabric_disabled on both routes while the flag is off, and works again when it is on', async () => {
    const platformAdmin = await devLogin(gateway.app, 'ops@gifts.test', 'Ops');
    await gateway.database.sql`
      update auth.users set raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || '{"platform_admin": true}' where id = ${platformAdmin.userId}`;
    const admin = await devLogin(gateway.app, 'ops@gifts.test', 'Ops');
    const flag = (enabled: boolean) => ({
      flag: {
        kind: 'boolean',
        description: 'Gift Fabric: members gift credits to each other',
        enabled,
        default_value: false,
        rules: [{ environments: ['local', 'test', 'dev'], value: true }],
      },
    });
    try {
      const off = await call(gateway.app, 'PUT', '/api/flags/definitions/gift_fabric', { token: admin.token, body: flag(false) });
      expect(off.status).toBe(200);
      await waitFor('the gateway hears the flag off', async () => (await feed(mia)).status === 403);
      const refusedFeed = await feed(mia);
      expect(expectErrorShape(refusedFeed).code).toBe('gift_fabric_disabled');
      const refusedSend = await sendGift(mia, key(), gift(ned, '1'));
      expect([refusedSend.status, expectErrorShape(refusedSend).code]).toEqual([403, 'gift_fabric_disabled']);
      expect(expectErrorShape(refusedSend).message).toContain('"gift_fabric"');
    } finally {
      await call(gateway.app, 'PUT', '/api/flags/definitions/gift_fabric', { token: admin.token, body: flag(true) });
    }
    await waitFor('the gateway hears the flag on', async () => (await feed(mia)).status === 200);
  });
});

// The wallet routes through the real app on real Postgres: payout requests with Idempotency-Key semantics,
// distinct approvers up to the team's threshold, cancel, credits, stakes and the ledger invariant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let owner: Session;
let admin: Session;
let member: Session;
let outsider: Session;
let teamId: string;

const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const body = (amount = '1000000000000000000000', memo = 'roof') => ({ chain_id: 31337, token: TOKEN, recipient: RECIPIENT, amount, memo });
interface Payout {
  id: string;
  status: string;
  amount: string;
  recipient: string;
  approvals: string[];
}

const requestPayout = (session: Session, key: string, payload: unknown = body()) =>
  call<Payout>(gateway.app, 'POST', `/api/teams/${teamId}/payouts`, {
    token: session.token,
    headers: { 'idempotency-key': key },
    body: payload,
  });
const act = (session: Session, payoutId: string, action: 'approve' | 'cancel') =>
  call<Payout>(gateway.app, 'POST', `/api/teams/${teamId}/payouts/${payoutId}/${action}`, { token: session.token });

beforeAll(async () => {
  gateway = await startTestGateway('wallet_api', { seed: false });
  [owner, admin, member, outsider] = await Promise.all([
    devLogin(gateway.app, 'olga@wallet.test', 'Olga'),
    devLogin(gateway.app, 'adam@wallet.test', 'Adam'),
    devLogin(gateway.app, 'mia@wallet.test', 'Mia'),
    devLogin(gateway.app, 'otto@elsewhere.test', 'Otto'),
  ]);
  const team = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Wallet team' } });
  teamId = team.body.id;
  // members joined directly (the invitation flow is another domain's)
  await gateway.database.sql`
    insert into public.team_members (team_id, user_id, role) values
      (${teamId}, ${admin.userId}, 'admin'), (${teamId}, ${member.userId}, 'member')`;
});
afterAll(async () => {
  // the ledger invariant after every test run: debits = credits, per transaction and overall
  if (gateway) {
    const [ledger] = await gateway.database.sql<{ unbalanced: number; total: string }[]>`
      select (select count(*)::int from (select transaction_id from public.ledger_entries group by 1 having sum(amount) <> 0) u) as unbalanced,
             coalesce(sum(amount), 0)::text as total from public.ledger_entries`;
    expect(ledger).toEqual({ unbalanced: 0, total: '0' });
  }
  await gateway?.close();
});

describe('payout requests and Idempotency-Key', () => {
  it('records a payout as requested, amounts exact, addresses lower-case', async () => {
    const answer = await requestPayout(member, 'idem-key-0001');
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'requested', amount: '1000000000000000000000', recipient: RECIPIENT.toLowerCase() });
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
  });

  it('gives the same payout back for the same key and body, and records nothing new', async () => {
    const first = await requestPayout(member, 'idem-key-0002');
    const again = await requestPayout(member, 'idem-key-0002');
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const [row] = await gateway.database.sql<{ n: number }[]>`
      select count(*)::int as n from public.payouts where idempotency_key = 'idem-key-0002'`;
    expect(row!.n).toBe(1);
  });

  it('answers 422 idempotency_key_reused for the same key with another body', async () => {
    await requestPayout(member, 'idem-key-0003');
    const reused = await requestPayout(member, 'idem-key-0003', body('5'));
    expect(reused.status).toBe(422);
    expect(expectErrorShape(reused).code).toBe('idempotency_key_reused');
  });

  it('settles concurrent requests with one key on one payout', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => requestPayout(member, 'idem-key-race')));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  });

  it('refuses a missing key, a bad address, a zero or fractional amount with 400', async () => {
    const noKey = await call(gateway.app, 'POST', `/api/teams/${teamId}/payouts`, { token: member.token, body: body() });
    expect(noKey.status).toBe(400);
    for (const bad of [{ ...body(), recipient: '0x1234' }, body('0'), body('1.5'), body('-3')]) {
      const answer = await requestPayout(member, `bad-${Math.random().toString(36).slice(2)}`, bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(expectErrorShape(answer).code).toBe('invalid_body');
    }
  });

  it("answers 404 for another team's payouts and refuses outsiders", async () => {
    const mine = await requestPayout(member, 'idem-key-0004');
    const peek = await call(gateway.app, 'GET', `/api/teams/${teamId}/payouts/${mine.body.id}`, { token: outsider.token });
    expect([403, 404]).toContain(peek.status);
    const otherTeam = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: outsider.token, body: { name: 'Elsewhere' } });
    const cross = await call(gateway.app, 'GET', `/api/teams/${otherTeam.body.id}/payouts/${mine.body.id}`, { token: outsider.token });
    expect(cross.status).toBe(404);
    expect(expectErrorShape(cross).code).toBe('payout_not_found');
  });
});

describe('approvals', () => {
  it('needs distinct approvers other than the requester, up to the threshold', async () => {
    const threshold = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/approval-threshold`, {
      token: owner.token,
      body: { approval_threshold: 2 },
    });
    expect(threshold.status).toBe(200);
    const payout = (await requestPayout(admin, 'idem-key-appr')).body;

    const own = await act(admin, payout.id, 'approve');
    expect(own.status).toBe(403);
    expect(expectErrorShape(own).code).toBe('own_payout');
    const byMember = await act(member, payout.id, 'approve');
    expect(byMember.status).toBe(403);
    expect(expectErrorShape(byMember).code).toBe('capability_missing');

    const first = await act(owner, payout.id, 'approve');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'requested', approvals: [owner.userId] });
    const twice = await act(owner, payout.id, 'approve');
    expect(twice.status).toBe(409);
    expect(expectErrorShape(twice).code).toBe('already_approved');

    // a second approver: the owner's threshold of 2 is met by two distinct people
    await gateway.database.sql`insert into public.team_members (team_id, user_id, role) values (${teamId}, ${outsider.userId}, 'admin')`;
    const second = await act(outsider, payout.id, 'approve');
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('approved');
    await gateway.database.sql`delete from public.team_members where team_id = ${teamId} and user_id = ${outsider.userId}`;

    const events = await gateway.database.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where aggregate_id = ${payout.id} order by seq`;
    expect(events.map((e) => e.event_type)).toEqual(['payout.requested', 'payout.approved']);
    const listed = await call<{ items: Payout[] }>(gateway.app, 'GET', `/api/teams/${teamId}/payouts?status=approved`, {
      token: member.token,
    });
    expect(listed.body.items.map((p) => p.id)).toContain(payout.id);
  });

  it('lets the requester cancel before sending, then refuses approving or cancelling again', async () => {
    const payout = (await requestPayout(member, 'idem-key-cancel')).body;
    const cancelled = await act(member, payout.id, 'cancel');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(expectErrorShape(await act(member, payout.id, 'cancel')).code).toBe('payout_not_cancellable');
    expect(expectErrorShape(await act(owner, payout.id, 'approve')).code).toBe('payout_not_requested');
  });
});

describe('credits and stakes', () => {
  it('grants, stakes, refuses an overdraft with 422 and keeps locked stakes locked', async () => {
    const granted = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/credits`, {
      token: owner.token,
      body: { member_id: member.userId, amount: '100', memo: 'welcome' },
    });
    expect(granted.status).toBe(201);
    const notByMember = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/credits`, {
      token: member.token,
      body: { member_id: member.userId, amount: '100' },
    });
    expect(notByMember.status).toBe(403);

    const staked = await call<{ id: string; status: string }>(gateway.app, 'POST', `/api/teams/${teamId}/stakes`, {
      token: member.token,
      body: { amount: '60', lock_days: 30 },
    });
    expect(staked.status).toBe(201);
    expect(staked.body.status).toBe('locked');
    const over = await call(gateway.app, 'POST', `/api/teams/${teamId}/stakes`, {
      token: member.token,
      body: { amount: '41', lock_days: 0 },
    });
    expect(over.status).toBe(422);
    expect(expectErrorShape(over).code).toBe('insufficient_credits');
    const early = await call(gateway.app, 'POST', `/api/teams/${teamId}/stakes/${staked.body.id}/withdraw`, { token: member.token });
    expect(early.status).toBe(409);
    expect(expectErrorShape(early).code).toBe('stake_locked');

    const balances = await call<{ items: { account: string; balance: string }[] }>(
      gateway.app,
      'GET',
      `/api/teams/${teamId}/wallet/balances`,
      {
        token: member.token,
      },
    );
    expect(balances.body.items).toEqual([
      { account: 'issuance', balance: '-100' },
      { account: `member:${member.userId}`, balance: '40' },
      { account: `staked:${member.userId}`, balance: '60' },
    ]);
  });

  it('settles concurrent stakes against one balance without overdrawing', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        call(gateway.app, 'POST', `/api/teams/${teamId}/stakes`, { token: member.token, body: { amount: '10', lock_days: 0 } }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(4);
    expect(answers.filter((a) => a.status === 422)).toHaveLength(1);
  });
});

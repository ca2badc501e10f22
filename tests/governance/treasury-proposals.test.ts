// Treasury proposals through the real app on real Postgres: a passed one becomes exactly one approved payout
// (the wallet's state machine and events, an audit entry naming the proposal) and the proposal is Executed with
// its payout; a defeated one pays nothing; re-running the scheduler's step changes nothing; a team without a
// treasury gets a clear reason and is paid once it registers one; the link proposal → payout is a constraint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, joinByInvitation, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

const CHAIN = 31337;
const RINGK = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const TREASURY = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

let gateway: TestGateway;
let owner: Session;
let bob: Session;
let dan: Session;
let teamId: string;

interface Proposal {
  id: string;
  state: string;
  outcome: Record<string, unknown> | null;
  payout: { id: string; status: string; chain_id: number; tx_hash: string | null } | null;
}

const tick = (days: number) =>
  gateway.database.sql<{ proposal_id: string; to_state: string }[]>`
    select proposal_id, to_state::text from app.governance_tick(100, now() + make_interval(days => ${days}))`;
const stepsOf = async (proposalId: string, days: number) =>
  (await tick(days)).filter((step) => step.proposal_id === proposalId).map((step) => step.to_state);

async function proposePayout(amount: string): Promise<Proposal> {
  const made = await call<Proposal>(gateway.app, 'POST', '/api/governance/proposals', {
    token: bob.token,
    body: {
      kind: 'treasury_payout',
      team_id: teamId,
      title: `Pay the roofer ${amount}`,
      action: { recipient: RECIPIENT, amount, asset: 'RINGK' },
    },
  });
  expect(made.status).toBe(201);
  return made.body;
}
const vote = (session: Session, proposalId: string, choice: string) =>
  call<Proposal>(gateway.app, 'POST', `/api/governance/proposals/${proposalId}/vote`, { token: session.token, body: { choice } });
const read = async (proposalId: string) =>
  (await call<Proposal>(gateway.app, 'GET', `/api/governance/proposals/${proposalId}`, { token: dan.token })).body;
const payoutsOf = (proposalId: string) =>
  gateway.database.sql<{ id: string; status: string; chain_id: string; token: string; recipient: string; amount: string }[]>`
    select id, status, chain_id::text, token, recipient, amount::text from public.payouts where proposal_id = ${proposalId}`;

beforeAll(async () => {
  gateway = await startTestGateway('gov_treasury', { seed: false });
  [owner, bob, dan] = await Promise.all([
    devLogin(gateway.app, 'olga@treasury.test', 'Olga'),
    devLogin(gateway.app, 'bob@treasury.test', 'Bob'),
    devLogin(gateway.app, 'dan@treasury.test', 'Dan'),
  ]);
  teamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Roofers' } })).body.id;
  for (const member of [bob, dan]) expect(await joinByInvitation(gateway.app, owner, teamId, member)).toBe(200);
  await gateway.database.sql`
    insert into public.chain_tokens (chain_id, symbol, address, treasury_address) values (${CHAIN}, 'RINGK', ${RINGK}, ${TREASURY})
    on conflict do nothing`;
});
afterAll(async () => {
  await gateway?.close();
});

describe('a team without a treasury', () => {
  it('queues the passed proposal with the reason, and pays it once the treasury is registered', async () => {
    const proposal = await proposePayout('500');
    await vote(bob, proposal.id, 'for');
    await vote(dan, proposal.id, 'for');
    expect(await stepsOf(proposal.id, 4)).toEqual(['succeeded']);
    expect(await stepsOf(proposal.id, 4)).toEqual(['queued']);
    expect(await stepsOf(proposal.id, 4)).toEqual([]);
    const queued = await read(proposal.id);
    expect(queued).toMatchObject({ state: 'queued', payout: null, outcome: { error: { code: 'no_treasury' } } });
    expect(await payoutsOf(proposal.id)).toEqual([]);

    await gateway.database.sql`
      insert into public.wallets (team_id, kind, chain_id, address) values (${teamId}, 'treasury', ${CHAIN}, ${TREASURY})`;
    expect(await stepsOf(proposal.id, 4)).toEqual(['executed']);
    const executed = await read(proposal.id);
    expect(executed.outcome).not.toHaveProperty('error');
    expect(executed).toMatchObject({ state: 'executed', payout: { status: 'approved', chain_id: CHAIN } });
  });
});

describe('a team with a treasury', () => {
  it('pays a passed proposal with exactly one approved payout, and the proposal shows it', async () => {
    const proposal = await proposePayout('1000');
    await vote(bob, proposal.id, 'for');
    await vote(dan, proposal.id, 'for');
    await vote(owner, proposal.id, 'against');
    expect(await stepsOf(proposal.id, 4)).toEqual(['succeeded']);
    expect(await stepsOf(proposal.id, 4)).toEqual(['executed']);

    const payouts = await payoutsOf(proposal.id);
    expect(payouts).toEqual([
      {
        id: expect.any(String),
        status: 'approved',
        chain_id: String(CHAIN),
        token: RINGK,
        recipient: RECIPIENT.toLowerCase(),
        amount: '1000',
      },
    ]);
    const shown = await read(proposal.id);
    expect(shown).toMatchObject({
      state: 'executed',
      outcome: { done: 'payout_approved', payout_id: payouts[0]!.id, for: 2, against: 1 },
      payout: { id: payouts[0]!.id, status: 'approved', tx_hash: null },
    });

    // the wallet's own path: requested → approved with both events (the worker sends approved payouts)
    const events = await gateway.database.sql<{ event_type: string }[]>`
      select event_type from public.outbox_events where aggregate_id = ${payouts[0]!.id} order by seq`;
    expect(events.map((event) => event.event_type)).toEqual(['payout.requested', 'payout.approved']);
    const [audit] = await gateway.database.sql<{ details: { proposal_id: string } }[]>`
      select details from public.audit_log where action = 'payout.approved_by_proposal' and target_id = ${payouts[0]!.id}`;
    expect(audit!.details.proposal_id).toBe(proposal.id);
    // the payout is listed with the team's payouts like any other
    const listed = await call<{ items: { id: string; status: string }[] }>(gateway.app, 'GET', `/api/teams/${teamId}/payouts`, {
      token: dan.token,
    });
    expect(listed.body.items.map((item) => item.id)).toContain(payouts[0]!.id);

    // the scheduler's step again, later: nothing moves, still one payout
    expect(await stepsOf(proposal.id, 5)).toEqual([]);
    expect(await stepsOf(proposal.id, 30)).toEqual([]);
    expect(await payoutsOf(proposal.id)).toHaveLength(1);
  });

  it('pays nothing for a defeated proposal', async () => {
    const proposal = await proposePayout('2000');
    await vote(bob, proposal.id, 'for');
    await vote(dan, proposal.id, 'against');
    expect(await stepsOf(proposal.id, 4)).toEqual(['defeated']);
    expect(await stepsOf(proposal.id, 4)).toEqual([]);
    expect(await payoutsOf(proposal.id)).toEqual([]);
    expect((await read(proposal.id)).payout).toBeNull();
  });

  it('refuses a second payout for a proposal, and a change of a payout’s proposal, in the database', async () => {
    const [paid] = await gateway.database.sql<{ id: string; proposal_id: string }[]>`
      select id, proposal_id from public.payouts where proposal_id is not null limit 1`;
    await expect(
      gateway.database.sql`
        insert into public.payouts (team_id, chain_id, token, recipient, amount, idempotency_key, request_hash, proposal_id)
        values (${teamId}, ${CHAIN}, ${RINGK}, ${RECIPIENT.toLowerCase()}, 1, 'second-payout', ${'0'.repeat(64)}, ${paid!.proposal_id})`,
    ).rejects.toMatchObject({ code: '23505' });
    await expect(gateway.database.sql`update public.payouts set proposal_id = null where id = ${paid!.id}`).rejects.toMatchObject({
      code: '42501',
    });
  });
});

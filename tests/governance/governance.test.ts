// Governance through the real app on real Postgres: propose → vote (and change it) → the scheduler's step
// closes and executes → a late vote is a 409; concurrent votes of one member leave one ballot; isolation
// between teams; the tally answered with the proposal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, expectErrorShape, joinByInvitation, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let owner: Session;
let bob: Session;
let dan: Session;
let outsider: Session;
let teamId: string;

interface Proposal {
  id: string;
  state: string;
  tally: { for: number; against: number; abstain: number; eligible_voters: number; quorum_reached: boolean; threshold_reached: boolean };
  my_vote: string | null;
  outcome: Record<string, unknown> | null;
}

/** The scheduler's step as the worker takes it, `days` ahead (the worker runs as the database owner). */
const tick = (days: number) =>
  gateway.database.sql<{ proposal_id: string; to_state: string }[]>`
    select proposal_id, to_state::text from app.governance_tick(100, now() + make_interval(days => ${days}))`;

const vote = (session: Session, proposalId: string, choice: string) =>
  call<Proposal>(gateway.app, 'POST', `/api/governance/proposals/${proposalId}/vote`, { token: session.token, body: { choice } });

beforeAll(async () => {
  gateway = await startTestGateway('governance', { seed: false });
  [owner, bob, dan, outsider] = await Promise.all([
    devLogin(gateway.app, 'olga@gov.test', 'Olga'),
    devLogin(gateway.app, 'bob@gov.test', 'Bob'),
    devLogin(gateway.app, 'dan@gov.test', 'Dan'),
    devLogin(gateway.app, 'otto@elsewhere.test', 'Otto'),
  ]);
  teamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Commons' } })).body.id;
  for (const member of [bob, dan]) {
    expect(await joinByInvitation(gateway.app, owner, teamId, member)).toBe(200);
  }
});
afterAll(async () => {
  await gateway?.close();
});

describe('a parameter change: propose → two members vote → close → executed', () => {
  let proposal: Proposal;

  it('opens at once with the team’s electorate and an empty tally', async () => {
    const made = await call<Proposal>(gateway.app, 'POST', '/api/governance/proposals', {
      token: bob.token,
      body: { kind: 'parameter_change', team_id: teamId, title: 'Quorum to 60 %', action: { setting: 'quorum_percent', value: 60 } },
    });
    expect(made.status).toBe(201);
    proposal = made.body;
    expect(proposal).toMatchObject({ state: 'active', tally: { for: 0, against: 0, abstain: 0, eligible_voters: 3 } });
  });

  it('counts votes, lets a member change hers, and shows the caller’s own vote', async () => {
    expect((await vote(bob, proposal.id, 'against')).body.my_vote).toBe('against');
    expect((await vote(bob, proposal.id, 'for')).body.my_vote).toBe('for');
    const after = await vote(dan, proposal.id, 'for');
    expect(after.body.tally).toMatchObject({ for: 2, against: 0, quorum_reached: true, threshold_reached: true });
  });

  it('is closed and executed by the scheduler’s steps, once; the setting changes', async () => {
    expect((await tick(4)).filter((step) => step.proposal_id === proposal.id).map((step) => step.to_state)).toEqual(['succeeded']);
    expect((await tick(4)).filter((step) => step.proposal_id === proposal.id).map((step) => step.to_state)).toEqual(['executed']);
    expect((await tick(4)).filter((step) => step.proposal_id === proposal.id)).toEqual([]);
    const read = await call<Proposal>(gateway.app, 'GET', `/api/governance/proposals/${proposal.id}`, { token: owner.token });
    expect(read.body).toMatchObject({ state: 'executed', outcome: { done: 'setting_changed', for: 2 } });
    const settings = await call<{ quorum_percent: number }>(gateway.app, 'GET', `/api/governance/settings?team_id=${teamId}`, {
      token: dan.token,
    });
    expect(settings.body.quorum_percent).toBe(60);
  });

  it('refuses a vote after close with 409 voting_closed', async () => {
    const late = await vote(owner, proposal.id, 'against');
    expect(late.status).toBe(409);
    expect(expectErrorShape(late).code).toBe('voting_closed');
  });
});

describe('votes and proposals under pressure', () => {
  it('keeps one ballot per member when the same member votes 20 times at once', async () => {
    const made = await call<Proposal>(gateway.app, 'POST', '/api/governance/proposals', {
      token: dan.token,
      body: { kind: 'signal', team_id: teamId, title: 'Garden on the roof' },
    });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => vote(bob, made.body.id, i % 2 ? 'for' : 'against')));
    expect(answers.map((answer) => answer.status).every((status) => status === 200)).toBe(true);
    const [ballots] = await gateway.database.sql<{ count: number }[]>`
      select count(*)::int as count from public.votes where proposal_id = ${made.body.id}`;
    expect(ballots!.count).toBe(1);
  });

  it('hides a team’s proposals from another team and lets only the author (or a manager) cancel', async () => {
    const made = await call<Proposal>(gateway.app, 'POST', '/api/governance/proposals', {
      token: bob.token,
      body: { kind: 'signal', team_id: teamId, title: 'Cancel me' },
    });
    const foreign = await call(gateway.app, 'GET', `/api/governance/proposals/${made.body.id}`, { token: outsider.token });
    expect(foreign.status).toBe(404);
    expect((await vote(outsider, made.body.id, 'for')).status).toBe(404);
    const list = await call(gateway.app, 'GET', `/api/governance/proposals?team_id=${teamId}`, { token: outsider.token });
    expect(list.status).toBe(404);

    const byDan = await call(gateway.app, 'POST', `/api/governance/proposals/${made.body.id}/cancel`, { token: dan.token });
    expect(byDan.status).toBe(403);
    const byBob = await call<Proposal>(gateway.app, 'POST', `/api/governance/proposals/${made.body.id}/cancel`, { token: bob.token });
    expect(byBob.body.state).toBe('canceled');
    const twice = await call(gateway.app, 'POST', `/api/governance/proposals/${made.body.id}/cancel`, { token: owner.token });
    expect(expectErrorShape(twice).code).toBe('proposal_not_cancelable');
  });

  it('answers a parameter change out of the database’s bounds with 400 invalid_proposal_action', async () => {
    const refused = await call(gateway.app, 'POST', '/api/governance/proposals', {
      token: bob.token,
      body: { kind: 'parameter_change', team_id: teamId, title: 'Quorum 500', action: { setting: 'quorum_percent', value: 500 } },
    });
    expect(refused.status).toBe(400);
    expect(expectErrorShape(refused).code).toBe('invalid_proposal_action');
  });
});

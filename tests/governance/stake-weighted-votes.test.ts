// Votes weighted by staked RINGK, through the real app on real Postgres: the team switches by a parameter-change
// proposal; a vote weighs the voter's stake when voting opened (stake moved afterwards changes nothing, a
// voter without stake weighs 0); quorum is against the team's stake at that moment; ties and exactly-at-quorum.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, joinByInvitation, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let owner: Session;
let bob: Session;
let dan: Session;
let eve: Session;
let teamId: string;

interface Tally {
  for: number;
  against: number;
  vote_weight: string;
  for_weight: string;
  against_weight: string;
  abstain_weight: string;
  eligible_weight: string;
  quorum_reached: boolean;
  threshold_reached: boolean;
}
interface Proposal {
  id: string;
  state: string;
  tally: Tally;
}

const tick = (days: number) =>
  gateway.database.sql<{ proposal_id: string; to_state: string }[]>`
    select proposal_id, to_state::text from app.governance_tick(100, now() + make_interval(days => ${days}))`;
const vote = (session: Session, proposalId: string, choice: string) =>
  call<Proposal>(gateway.app, 'POST', `/api/governance/proposals/${proposalId}/vote`, { token: session.token, body: { choice } });
const propose = async (title: string) => {
  const made = await call<Proposal>(gateway.app, 'POST', '/api/governance/proposals', {
    token: owner.token,
    body: { kind: 'signal', team_id: teamId, title },
  });
  expect(made.status).toBe(201);
  return made.body;
};
const stateAfterClose = async (proposalId: string) => {
  await tick(4);
  const [row] = await gateway.database.sql<{ state: string }[]>`select state::text from public.proposals where id = ${proposalId}`;
  return row!.state;
};

/** Locks `amount` of a member's RINGK as a stake (arranged as the database owner: the ledger side is the wallet's). */
async function stake(session: Session, amount: string): Promise<string> {
  const [row] = await gateway.database.sql<{ id: string }[]>`
    insert into public.staking_ringk (team_id, user_id, amount, lock_days, locked_until)
    values (${teamId}, ${session.userId}, ${amount}, 0, now()) returning id`;
  return row!.id;
}
const withdrawAll = () =>
  gateway.database
    .sql`update public.staking_ringk set status = 'withdrawn', withdrawn_at = now() where team_id = ${teamId} and status = 'locked'`;

beforeAll(async () => {
  gateway = await startTestGateway('gov_weighted', { seed: false });
  [owner, bob, dan, eve] = await Promise.all([
    devLogin(gateway.app, 'olga@weighted.test', 'Olga'),
    devLogin(gateway.app, 'bob@weighted.test', 'Bob'),
    devLogin(gateway.app, 'dan@weighted.test', 'Dan'),
    devLogin(gateway.app, 'eve@weighted.test', 'Eve'),
  ]);
  teamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Stakers' } })).body.id;
  for (const member of [bob, dan, eve]) expect(await joinByInvitation(gateway.app, owner, teamId, member)).toBe(200);
});
afterAll(async () => {
  await gateway?.close();
});

describe('switching a team to stake-weighted votes', () => {
  it('is a parameter change the team votes on; proposals made before keep one member, one vote', async () => {
    const change = await call<Proposal>(gateway.app, 'POST', '/api/governance/proposals', {
      token: owner.token,
      body: {
        kind: 'parameter_change',
        team_id: teamId,
        title: 'Weigh votes by stake',
        action: { setting: 'vote_weight', value: 'staked_ringk' },
      },
    });
    expect(change.status).toBe(201);
    const before = await propose('Made before the switch');
    for (const member of [owner, bob, dan]) await vote(member, change.body.id, 'for');
    await vote(bob, before.id, 'for');
    await tick(4);
    await tick(4);
    const settings = await call<{ vote_weight: string }>(gateway.app, 'GET', `/api/governance/settings?team_id=${teamId}`, {
      token: eve.token,
    });
    expect(settings.body.vote_weight).toBe('staked_ringk');
    const kept = await call<Proposal>(gateway.app, 'GET', `/api/governance/proposals/${before.id}`, { token: eve.token });
    expect(kept.body.tally).toMatchObject({ vote_weight: 'member', for_weight: '1', eligible_weight: '4' });
  });

  it('answers an unknown weighting with 400', async () => {
    const refused = await call(gateway.app, 'POST', '/api/governance/proposals', {
      token: owner.token,
      body: { kind: 'parameter_change', team_id: teamId, title: 'Weigh by age', action: { setting: 'vote_weight', value: 'age' } },
    });
    expect(refused.status).toBe(400);
  });
});

describe('a stake-weighted vote', () => {
  it('weighs each vote by the stake at the snapshot; stake moved after it and a zero-stake voter change nothing', async () => {
    await withdrawAll();
    await stake(owner, '300000000000000000000');
    await stake(bob, '100000000000000000000');
    const proposal = await propose('Solar roof');
    expect(proposal.tally).toMatchObject({ vote_weight: 'staked_ringk', eligible_weight: '400000000000000000000' });

    // after the snapshot: Bob stakes much more, Olga withdraws everything
    await stake(bob, '5000000000000000000000');
    await gateway.database.sql`
      update public.staking_ringk set status = 'withdrawn', withdrawn_at = now() where user_id = ${owner.userId} and status = 'locked'`;

    await vote(owner, proposal.id, 'for');
    await vote(bob, proposal.id, 'against');
    const tally = (await vote(eve, proposal.id, 'for')).body.tally; // Eve has never staked
    expect(tally).toMatchObject({
      for: 2,
      against: 1,
      for_weight: '300000000000000000000',
      against_weight: '100000000000000000000',
      eligible_weight: '400000000000000000000',
      quorum_reached: true,
      threshold_reached: true,
    });
    const [eveBallot] = await gateway.database.sql<{ weight: string }[]>`
      select weight::text from public.votes where proposal_id = ${proposal.id} and voter_id = ${eve.userId}`;
    expect(eveBallot!.weight).toBe('0');
    // a changed vote keeps its weight
    expect((await vote(bob, proposal.id, 'abstain')).body.tally).toMatchObject({
      against_weight: '0',
      abstain_weight: '100000000000000000000',
    });
    expect(await stateAfterClose(proposal.id)).toBe('succeeded');
  });

  it('is defeated by a tie of weights', async () => {
    await withdrawAll();
    await stake(owner, '200');
    await stake(bob, '200');
    const proposal = await propose('Tied');
    await vote(owner, proposal.id, 'for');
    await vote(bob, proposal.id, 'against');
    expect((await vote(dan, proposal.id, 'for')).body.tally).toMatchObject({ for: 2, for_weight: '200', against_weight: '200' });
    expect(await stateAfterClose(proposal.id)).toBe('defeated');
  });

  it('reaches quorum with exactly half the stake, and not one base unit less', async () => {
    await withdrawAll();
    await stake(owner, '500');
    await stake(bob, '499');
    await stake(dan, '1');
    const atQuorum = await propose('Exactly at quorum');
    expect((await vote(owner, atQuorum.id, 'for')).body.tally).toMatchObject({ eligible_weight: '1000', quorum_reached: true });
    const below = await propose('One unit short');
    const tally = (await vote(bob, below.id, 'for')).body.tally;
    expect(tally).toMatchObject({ for_weight: '499', quorum_reached: false });
    expect(await stateAfterClose(atQuorum.id)).toBe('succeeded');
    expect(await stateAfterClose(below.id)).toBe('defeated');
  });

  it('defeats a proposal when nobody had any stake at the snapshot', async () => {
    await withdrawAll();
    const proposal = await propose('Nobody staked');
    expect((await vote(owner, proposal.id, 'for')).body.tally).toMatchObject({ for: 1, for_weight: '0', eligible_weight: '0' });
    expect(await stateAfterClose(proposal.id)).toBe('defeated');
  });
});

// SQL of governance; runs inside the request's transaction, so RLS scopes every statement to the caller. The
// database fixes each proposal's window, thresholds and electorate, refuses late and double votes, and raises
// the events (20261205000410); the tally is the proposal_tallies view (weighted by stake where the team says so,
// 20261205001310); a treasury proposal's payout is the one linked to it (20261205001300).
import type { Tx } from '../../_shared/db.ts';

export type ProposalKind = 'signal' | 'parameter_change' | 'treasury_payout';
export type VoteChoice = 'for' | 'against' | 'abstain';
export type VoteWeight = 'member' | 'staked_ringk';
export type ProposalState = 'pending' | 'active' | 'canceled' | 'defeated' | 'succeeded' | 'queued' | 'executed' | 'expired';

export interface SettingsRow {
  team_id: string;
  voting_delay_seconds: number;
  voting_period_seconds: number;
  quorum_percent: number;
  pass_threshold_percent: number;
  execution_window_seconds: number;
  vote_weight: VoteWeight;
}

export interface ProposalRow {
  id: string;
  team_id: string;
  kind: ProposalKind;
  title: string;
  body: string;
  action: Record<string, unknown>;
  state: ProposalState;
  created_by: string;
  created_at: string;
  voting_starts_at: string;
  voting_ends_at: string;
  execute_before: string;
  closed_at: string | null;
  executed_at: string | null;
  outcome: Record<string, unknown> | null;
  tally: {
    for: number;
    against: number;
    abstain: number;
    eligible_voters: number;
    quorum_percent: number;
    pass_threshold_percent: number;
    quorum_reached: boolean;
    threshold_reached: boolean;
    vote_weight: VoteWeight;
    for_weight: string;
    against_weight: string;
    abstain_weight: string;
    eligible_weight: string;
  };
  /** A treasury proposal's payout once governance recorded it (null before, or for a reader without wallet.read). */
  payout: {
    id: string;
    status: 'requested' | 'approved' | 'submitted' | 'confirmed' | 'failed' | 'cancelled';
    chain_id: number;
    tx_hash: string | null;
    last_error: string | null;
  } | null;
  my_vote: VoteChoice | null;
}

export async function findSettings(tx: Tx, teamId: string): Promise<SettingsRow | null> {
  const [row] = await tx<SettingsRow[]>`
    select team_id,
           extract(epoch from voting_delay)::int as voting_delay_seconds,
           extract(epoch from voting_period)::int as voting_period_seconds,
           quorum_percent::float8 as quorum_percent,
           pass_threshold_percent::float8 as pass_threshold_percent,
           extract(epoch from execution_window)::int as execution_window_seconds,
           vote_weight
    from public.governance_settings where team_id = ${teamId}`;
  return row ?? null;
}

const PROPOSAL_SELECT = `
  select p.id, p.team_id, p.kind, p.title, p.body, p.action, p.state, p.created_by, p.created_at,
         p.voting_starts_at, p.voting_ends_at, p.execute_before, p.closed_at, p.executed_at, p.outcome,
         json_build_object('for', t.for_votes, 'against', t.against_votes, 'abstain', t.abstain_votes,
           'eligible_voters', t.eligible_voters, 'quorum_percent', p.quorum_percent::float8,
           'pass_threshold_percent', p.pass_threshold_percent::float8,
           'quorum_reached', t.quorum_reached, 'threshold_reached', t.threshold_reached,
           'vote_weight', t.vote_weight, 'for_weight', t.for_weight::text, 'against_weight', t.against_weight::text,
           'abstain_weight', t.abstain_weight::text, 'eligible_weight', t.eligible_weight::text) as tally,
         (select json_build_object('id', py.id, 'status', py.status, 'chain_id', py.chain_id, 'tx_hash', py.tx_hash,
                   'last_error', py.last_error)
          from public.payouts py where py.proposal_id = p.id) as payout,
         (select v.choice from public.votes v where v.proposal_id = p.id and v.voter_id = (select auth.uid())) as my_vote
  from public.proposals p
  join public.proposal_tallies t on t.proposal_id = p.id`;

export function listProposals(tx: Tx, teamId: string, limit: number): Promise<ProposalRow[]> {
  return tx<ProposalRow[]>`${tx.unsafe(PROPOSAL_SELECT)} where p.team_id = ${teamId} order by p.created_at desc, p.id desc limit ${limit}`;
}

export async function findProposal(tx: Tx, proposalId: string): Promise<ProposalRow | null> {
  const [row] = await tx<ProposalRow[]>`${tx.unsafe(PROPOSAL_SELECT)} where p.id = ${proposalId}`;
  return row ?? null;
}

export async function insertProposal(
  tx: Tx,
  proposal: { teamId: string; kind: ProposalKind; title: string; body: string; action: Record<string, unknown> },
): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into public.proposals (team_id, kind, title, body, action, created_by)
    values (${proposal.teamId}, ${proposal.kind}, ${proposal.title}, ${proposal.body}, ${tx.json(proposal.action as never)}::jsonb,
            (select auth.uid()))
    returning id`;
  return row!.id;
}

/** Casts or changes the caller's vote: one row per member (the primary key), so racing requests converge. */
export async function castVote(tx: Tx, proposal: { id: string; team_id: string }, choice: VoteChoice): Promise<void> {
  await tx`
    insert into public.votes (proposal_id, team_id, voter_id, choice)
    values (${proposal.id}, ${proposal.team_id}, (select auth.uid()), ${choice})
    on conflict (proposal_id, voter_id) do update set choice = excluded.choice`;
}

/** Cancels a pending or active proposal; false when RLS does not let the caller (not its author, no manage). */
export async function cancelProposal(tx: Tx, proposalId: string): Promise<boolean> {
  const rows = await tx`update public.proposals set state = 'canceled' where id = ${proposalId} returning id`;
  return rows.length > 0;
}

// Governance: a team's settings, proposals (make, list, read with the live tally, cancel) and votes.
// Closing and executing are the scheduler's (workers/governance-scheduler), never a request's.
import { z } from '@hono/zod-openapi';
import { ApiError, conflict, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { capabilityMissing, requireTeamCapability } from '../core/pep.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import {
  createRouter,
  errorResponses,
  jsonBody,
  jsonResponse,
  Name,
  PageLimit,
  securedRoute,
  Text,
  Timestamp,
  Uuid,
} from '../core/route.ts';
import { cancelProposal, castVote, findProposal, findSettings, insertProposal, listProposals } from './governance.queries.ts';

const State = z.enum(['pending', 'active', 'canceled', 'defeated', 'succeeded', 'queued', 'executed', 'expired']);
const Choice = z.enum(['for', 'against', 'abstain']);
const VoteWeight = z.enum(['member', 'staked_ringk']).openapi({
  description: 'member: one member, one vote; staked_ringk: a vote weighs the voter’s RINGK stake when voting started',
});
const Weight = z.string().openapi({ description: 'Votes (member) or RINGK base units (staked_ringk), as a decimal string' });

const Settings = z
  .object({
    team_id: Uuid,
    voting_delay_seconds: z.number(),
    voting_period_seconds: z.number(),
    quorum_percent: z.number(),
    pass_threshold_percent: z.number(),
    execution_window_seconds: z.number(),
    vote_weight: VoteWeight,
  })
  .openapi('GovernanceSettings');

const Proposal = z
  .object({
    id: Uuid,
    team_id: Uuid,
    kind: z.enum(['signal', 'parameter_change', 'treasury_payout']),
    title: z.string(),
    body: z.string(),
    action: z.record(z.string(), z.unknown()),
    state: State,
    created_by: Uuid,
    created_at: Timestamp,
    voting_starts_at: Timestamp,
    voting_ends_at: Timestamp,
    execute_before: Timestamp,
    closed_at: Timestamp.nullable(),
    executed_at: Timestamp.nullable(),
    outcome: z.record(z.string(), z.unknown()).nullable(),
    tally: z.object({
      for: z.number(),
      against: z.number(),
      abstain: z.number(),
      eligible_voters: z.number(),
      quorum_percent: z.number(),
      pass_threshold_percent: z.number(),
      quorum_reached: z.boolean(),
      threshold_reached: z.boolean(),
      vote_weight: VoteWeight,
      for_weight: Weight,
      against_weight: Weight,
      abstain_weight: Weight,
      eligible_weight: Weight,
    }),
    payout: z
      .object({
        id: Uuid,
        status: z.enum(['requested', 'approved', 'submitted', 'confirmed', 'failed', 'cancelled']),
        chain_id: z.number().int(),
        tx_hash: z.string().nullable(),
        last_error: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: 'The payout a treasury proposal executed as, with its chain status (null before, or without wallet.read)' }),
    my_vote: Choice.nullable(),
  })
  .openapi('Proposal');

const ParameterChange = z.union([
  z.strictObject({
    setting: z.enum(['quorum_percent', 'pass_threshold_percent', 'voting_period_seconds', 'voting_delay_seconds']),
    value: z.number().min(0).max(2_592_000),
  }),
  z.strictObject({ setting: z.literal('vote_weight'), value: VoteWeight }),
]);
const TreasuryPayout = z.strictObject({
  recipient: z.string().regex(/^0x[0-9a-fA-F]{40}$/, { message: 'must be a 0x-prefixed 20-byte address' }),
  amount: z.string().regex(/^[1-9][0-9]{0,77}$/, { message: 'must be a positive whole number of base units, as a string' }),
  asset: z.literal('RINGK'),
});
const CreateProposalBody = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('signal'), team_id: Uuid, title: Name(200), body: Text(8000).optional() }),
    z.strictObject({
      kind: z.literal('parameter_change'),
      team_id: Uuid,
      title: Name(200),
      body: Text(8000).optional(),
      action: ParameterChange,
    }),
    z.strictObject({
      kind: z.literal('treasury_payout'),
      team_id: Uuid,
      title: Name(200),
      body: Text(8000).optional(),
      action: TreasuryPayout,
    }),
  ])
  .openapi('CreateProposal', {
    example: { kind: 'signal', team_id: '00000000-0000-4000-8000-0000000d3a00', title: 'Paint the hall green', body: '' },
  });
const VoteBody = z.strictObject({ choice: Choice }).openapi('Vote', { example: { choice: 'for' } });
const TeamQuery = z.strictObject({ team_id: Uuid });
const ListQuery = z.strictObject({ team_id: Uuid, limit: PageLimit });
const ProposalPath = z.strictObject({ proposalId: Uuid.openapi({ param: { name: 'proposalId', in: 'path' } }) });

const proposalNotFound = () =>
  notFound(
    'proposal_not_found',
    "No proposal with this id is visible to you; list your team's with GET /api/governance/proposals?team_id=….",
  );

const sqlState = (error: unknown): string | undefined => (error as { code?: unknown } | null)?.code as string | undefined;

const readSettings = securedRoute('governance.vote', {
  method: 'get',
  path: '/settings',
  tags: ['governance'],
  summary: 'How a team decides: voting delay and period, quorum, pass threshold, execution window, vote weighting',
  request: { query: TeamQuery },
  responses: { 200: jsonResponse(Settings, 'The settings'), ...errorResponses(400, 404) },
});

const propose = securedRoute('governance.propose', {
  method: 'post',
  path: '/proposals',
  tags: ['governance'],
  summary: 'Make a proposal (its window, quorum and threshold come from the team’s settings)',
  request: { body: jsonBody(CreateProposalBody, 'The proposal') },
  responses: { 201: jsonResponse(Proposal, 'The proposal with its (empty) tally'), ...errorResponses(404) },
});

const list = securedRoute('governance.vote', {
  method: 'get',
  path: '/proposals',
  tags: ['governance'],
  summary: "A team's proposals, newest first, each with its live tally",
  request: { query: ListQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Proposal) }), 'The proposals'), ...errorResponses(400, 404) },
});

const read = securedRoute('governance.vote', {
  method: 'get',
  path: '/proposals/{proposalId}',
  tags: ['governance'],
  summary: 'One proposal with its live tally and my vote',
  request: { params: ProposalPath },
  responses: { 200: jsonResponse(Proposal, 'The proposal'), ...errorResponses(400, 404) },
});

const vote = securedRoute('governance.vote', {
  method: 'post',
  path: '/proposals/{proposalId}/vote',
  tags: ['governance'],
  summary: 'Cast or change my vote while voting is open',
  request: { params: ProposalPath, body: jsonBody(VoteBody, 'My choice') },
  responses: { 200: jsonResponse(Proposal, 'The proposal with the new tally'), ...errorResponses(404, 409) },
});

const cancel = securedRoute('governance.propose', {
  method: 'post',
  path: '/proposals/{proposalId}/cancel',
  tags: ['governance'],
  summary: 'Cancel a pending or active proposal (its author, or whoever holds governance.manage)',
  request: { params: ProposalPath },
  responses: { 200: jsonResponse(Proposal, 'The canceled proposal'), ...errorResponses(400, 404, 409) },
});

export const governanceRoutes = createRouter()
  .openapi(readSettings, async (c) => {
    const { team_id: teamId } = c.req.valid('query');
    const settings = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return findSettings(tx, teamId);
    });
    if (!settings) throw notFound('team_not_found', 'No team with this id has you as a member; list yours with GET /api/teams.');
    return c.json(settings, 200);
  })
  .openapi(propose, async (c) => {
    const body = c.req.valid('json');
    const proposal = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, body.team_id);
      await requireTeamCapability(tx, body.team_id, 'governance.propose');
      const id = await insertProposal(tx, {
        teamId: body.team_id,
        kind: body.kind,
        title: body.title,
        body: body.body ?? '',
        action: 'action' in body ? body.action : {},
      });
      return (await findProposal(tx, id))!;
    }).catch((error: unknown) => {
      // the database's bounds for the setting (e.g. quorum ≤ 100 %) are narrower than the zod schema's
      if (sqlState(error) === '22023') throw new ApiError(400, 'invalid_proposal_action', `${(error as Error).message}.`);
      throw error;
    });
    return c.json(proposal, 201);
  })
  .openapi(list, async (c) => {
    const { team_id: teamId, limit } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listProposals(tx, teamId, limit);
    });
    return c.json({ items }, 200);
  })
  .openapi(read, async (c) => {
    const { proposalId } = c.req.valid('param');
    const proposal = await inRequestTransaction(c, (tx) => findProposal(tx, proposalId));
    if (!proposal) throw proposalNotFound();
    return c.json(proposal, 200);
  })
  .openapi(vote, async (c) => {
    const { proposalId } = c.req.valid('param');
    const { choice } = c.req.valid('json');
    const proposal = await inRequestTransaction(c, async (tx) => {
      const current = await findProposal(tx, proposalId);
      if (!current) throw proposalNotFound();
      await requireTeamCapability(tx, current.team_id, 'governance.vote');
      await castVote(tx, current, choice);
      return (await findProposal(tx, proposalId))!;
    }).catch((error: unknown) => {
      if (sqlState(error) === '55000')
        throw conflict(
          'voting_closed',
          'Voting on this proposal is not open (it has not started, has ended, or was canceled); reload it to see its state.',
        );
      throw error;
    });
    return c.json(proposal, 200);
  })
  .openapi(cancel, async (c) => {
    const { proposalId } = c.req.valid('param');
    const proposal = await inRequestTransaction(c, async (tx) => {
      const current = await findProposal(tx, proposalId);
      if (!current) throw proposalNotFound();
      if (current.state !== 'pending' && current.state !== 'active')
        throw conflict('proposal_not_cancelable', `The proposal is ${current.state}; only pending or active proposals can be canceled.`);
      if (!(await cancelProposal(tx, proposalId))) throw capabilityMissing('governance.manage'); // not its author
      return (await findProposal(tx, proposalId))!;
    }).catch((error: unknown) => {
      if (sqlState(error) === '55000')
        throw conflict('proposal_not_cancelable', 'The proposal closed meanwhile; reload it to see its state.');
      throw error;
    });
    return c.json(proposal, 200);
  });

// Events of the governance domain. Raised by triggers in the database (20261205000410): a proposal made, a
// vote cast or changed (without its choice), and every state step (cancel by a person, close and execute by
// the scheduler).
import { z } from 'zod';
import { defineEvents, timestamp, uuid } from './define.ts';

const proposalKind = z.enum(['signal', 'parameter_change', 'treasury_payout']);
const proposalState = z.enum(['pending', 'active', 'canceled', 'defeated', 'succeeded', 'queued', 'executed', 'expired']);

export const governanceEvents = defineEvents({
  'proposal.created': {
    version: 1,
    aggregate: 'proposal',
    payload: z.object({
      proposal_id: uuid,
      team_id: uuid,
      kind: proposalKind,
      state: proposalState,
      created_by: uuid,
      voting_ends_at: timestamp,
    }),
  },
  'proposal.vote_cast': {
    version: 1,
    aggregate: 'proposal',
    payload: z.object({ proposal_id: uuid, team_id: uuid, voter_id: uuid, changed: z.boolean() }),
  },
  'proposal.state_changed': {
    version: 1,
    aggregate: 'proposal',
    payload: z.object({ proposal_id: uuid, team_id: uuid, kind: proposalKind, from: proposalState, to: proposalState }),
  },
});

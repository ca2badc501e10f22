// Events of the agents domain: agents registered or changed, and one event per agent-run transition (written
// by the database's trigger on agent_runs, migration 20261205000100). Ids and statuses only: run input and
// output stay in Postgres behind RLS.
import { z } from 'zod';
import { defineEvents, uuid } from './define.ts';

const runStatus = z.enum(['queued', 'in_progress', 'requires_action', 'completed', 'failed', 'cancelled', 'expired']);
const runTransition = {
  version: 1,
  aggregate: 'agent_run',
  payload: z.object({
    run_id: uuid,
    team_id: uuid,
    agent_id: uuid,
    channel_id: uuid.nullable(),
    status: runStatus,
    attempts: z.number().int().min(0),
    error_code: z.string().max(80).nullable(),
  }),
} as const;

export const agentEvents = defineEvents({
  'agent.registered': {
    version: 1,
    aggregate: 'agent',
    payload: z.object({ agent_id: uuid, team_id: uuid, name: z.string(), kind: z.string() }),
  },
  'agent.updated': {
    version: 1,
    aggregate: 'agent',
    payload: z.object({ agent_id: uuid, team_id: uuid, enabled: z.boolean(), updated_by: uuid }),
  },
  'agent_run.queued': runTransition,
  'agent_run.in_progress': runTransition,
  'agent_run.requires_action': runTransition,
  'agent_run.completed': runTransition,
  'agent_run.failed': runTransition,
  'agent_run.cancelled': runTransition,
  'agent_run.expired': runTransition,
});

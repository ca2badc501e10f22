// SQL of agents and their runs. Runs in the request's transaction, so RLS (reads by agent.read) and the
// security-definer functions of migration 20261205000100 (writes, each checking its capability) decide. Those
// functions raise SQLSTATEs this file turns into the API's errors, before the generic mapping sees them.
import type postgres from 'postgres';
import { ApiError, conflict, notFound } from '../../_shared/errors.ts';
import type { Tx } from '../../_shared/db.ts';

export type RunStatus = 'queued' | 'in_progress' | 'requires_action' | 'completed' | 'failed' | 'cancelled' | 'expired';

export interface AgentRow {
  id: string;
  team_id: string;
  principal_id: string;
  name: string;
  kind: string;
  config: Record<string, unknown>;
  bundle: string;
  enabled: boolean;
  run_timeout_seconds: number;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface RunRow {
  id: string;
  team_id: string;
  agent_id: string;
  agent_name: string;
  channel_id: string | null;
  trigger_message_id: string | null;
  input: Record<string, unknown>;
  status: RunStatus;
  output: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  usage: Record<string, unknown>;
  pending_action: Record<string, unknown> | null;
  correlation_id: string | null;
  started_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string;
  attempts: number;
}

export interface StepRow {
  id: number;
  kind: string;
  status: 'started' | 'succeeded' | 'failed';
  detail: Record<string, unknown>;
  attempt: number;
  created_at: string;
  finished_at: string | null;
}

export const agentNotFound = () =>
  notFound('agent_not_found', "No agent with this id is visible to you; list your team's agents with GET /api/agents?team_id=….");
export const runNotFound = () =>
  notFound('agent_run_not_found', "No agent run with this id is visible to you; list your team's runs with GET /api/agent-runs?team_id=….");

/** The SQLSTATE of a database error, if it is one. */
const sqlState = (error: unknown): string | undefined =>
  error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;

/** Runs one call of the agents' SQL functions, turning their refusals into answers with stable codes. */
async function refusalsAsAnswers<T>(call: () => Promise<T>, notFoundError: () => ApiError): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const state = sqlState(error);
    if (state === 'P0002') throw notFoundError();
    if (state === '55000')
      throw conflict('agent_disabled', 'This agent is disabled; an agent manager enables it with PATCH /api/agents/{agentId}.');
    if (state === '42501') throw new ApiError(403, 'not_permitted', (error as Error).message.replace(/ in team .*/, '') + '.');
    throw error;
  }
}

const agentColumns = (tx: Tx) => tx`
  id, team_id, principal_id, name, kind, config, bundle, enabled, run_timeout_seconds, created_by, created_at, updated_at`;

export async function registerAgent(
  tx: Tx,
  agent: { teamId: string; name: string; kind: string; config: Record<string, unknown>; bundle: string; timeoutSeconds: number },
  correlationId: string,
): Promise<AgentRow> {
  const id = await refusalsAsAnswers(async () => {
    try {
      const [row] = await tx<{ id: string }[]>`
        select app.register_agent(${agent.teamId}, ${agent.name}, ${agent.kind}, ${tx.json(agent.config as postgres.JSONValue)}::jsonb,
          ${agent.bundle}, ${agent.timeoutSeconds}, ${correlationId}) as id`;
      return row!.id;
    } catch (error) {
      if (sqlState(error) === '23505')
        throw conflict('agent_name_taken', `The team already has an agent named "${agent.name}"; pick another name.`);
      throw error;
    }
  }, agentNotFound);
  return (await findAgent(tx, id))!;
}

export async function findAgent(tx: Tx, agentId: string): Promise<AgentRow | null> {
  const [row] = await tx<AgentRow[]>`select ${agentColumns(tx)} from public.agents where id = ${agentId}`;
  return row ?? null;
}

export function listTeamAgents(tx: Tx, teamId: string): Promise<AgentRow[]> {
  return tx<AgentRow[]>`select ${agentColumns(tx)} from public.agents where team_id = ${teamId} order by name, id`;
}

/** Changes an agent (RLS: holders of agent.manage); null when the caller may not. */
export async function updateAgent(
  tx: Tx,
  agentId: string,
  change: { enabled?: boolean; config?: Record<string, unknown>; timeoutSeconds?: number },
): Promise<AgentRow | null> {
  const [row] = await tx<AgentRow[]>`
    update public.agents set
      enabled = coalesce(${change.enabled ?? null}::boolean, enabled),
      config = coalesce(${change.config ? tx.json(change.config as postgres.JSONValue) : null}::jsonb, config),
      run_timeout_seconds = coalesce(${change.timeoutSeconds ?? null}::int, run_timeout_seconds),
      updated_at = now()
    where id = ${agentId}
    returning ${agentColumns(tx)}`;
  return row ?? null;
}

const runColumns = (tx: Tx) => tx`
  r.id, r.team_id, r.agent_id, a.name as agent_name, r.channel_id, r.trigger_message_id, r.input, r.status, r.output,
  r.error, r.usage, r.pending_action, r.correlation_id, r.started_by, r.created_at, r.started_at, r.finished_at,
  r.expires_at, r.attempts`;

export async function startRun(
  tx: Tx,
  run: { agentId: string; channelId: string | null; input: Record<string, unknown> },
  correlationId: string,
): Promise<RunRow> {
  const id = await refusalsAsAnswers(async () => {
    const [row] = await tx<{ id: string }[]>`
      select app.start_agent_run(${run.agentId}, ${run.channelId}::uuid, ${tx.json(run.input as postgres.JSONValue)}::jsonb,
        ${correlationId}) as id`;
    return row!.id;
  }, agentOrChannelNotFound);
  return (await findRun(tx, id))!;
}

const agentOrChannelNotFound = () =>
  notFound(
    'agent_or_channel_not_found',
    "No such agent is visible to you, or the channel is not an open channel of the agent's team; check both ids.",
  );

export async function findRun(tx: Tx, runId: string): Promise<RunRow | null> {
  const [row] = await tx<RunRow[]>`
    select ${runColumns(tx)} from public.agent_runs r join public.agents a on a.id = r.agent_id where r.id = ${runId}`;
  return row ?? null;
}

/** A team's runs, newest first, optionally of one agent or in one status. */
export function listTeamRuns(tx: Tx, filter: { teamId: string; agentId?: string; status?: RunStatus; limit: number }): Promise<RunRow[]> {
  return tx<RunRow[]>`
    select ${runColumns(tx)} from public.agent_runs r join public.agents a on a.id = r.agent_id
    where r.team_id = ${filter.teamId}
      and (${filter.agentId ?? null}::uuid is null or r.agent_id = ${filter.agentId ?? null}::uuid)
      and (${filter.status ?? null}::public.agent_run_status is null or r.status = ${filter.status ?? null}::public.agent_run_status)
    order by r.created_at desc, r.id
    limit ${filter.limit}`;
}

export function listRunSteps(tx: Tx, runId: string): Promise<StepRow[]> {
  return tx<StepRow[]>`
    select id::int as id, kind, status, detail, attempt, created_at, finished_at
    from public.agent_run_steps where run_id = ${runId} order by id`;
}

/** Cancels a run that has not finished; false when it already had. */
export function cancelRun(tx: Tx, runId: string): Promise<boolean> {
  return refusalsAsAnswers(async () => {
    const [row] = await tx<{ done: boolean }[]>`select app.cancel_agent_run(${runId}) as done`;
    return row!.done;
  }, runNotFound);
}

/** Approves or rejects a run's pending action; false when the run is not waiting for one. */
export function resolveRunAction(tx: Tx, runId: string, approve: boolean, note: string | null): Promise<boolean> {
  return refusalsAsAnswers(async () => {
    const [row] = await tx<{ done: boolean }[]>`select app.resolve_agent_run_action(${runId}, ${approve}, ${note}) as done`;
    return row!.done;
  }, runNotFound);
}

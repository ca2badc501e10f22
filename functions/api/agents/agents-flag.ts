// The `agents` feature flag at the two doors a run comes in by: the start-run route refuses with 403
// agents_disabled, and a message that mentions an agent tells the database (transaction-local setting
// app.agent_mentions = 'off', read by app.start_agent_runs_for_mentions) to start nothing. Evaluated through
// the OpenFeature provider over the process's flag store, with the caller as targeting key and the run's team.
import type { Context } from 'hono';
import { ApiError } from '../../_shared/errors.ts';
import type { Tx } from '../../_shared/db.ts';
import type { PrincipalEnv } from '../core/context.ts';
import { featureEnabled } from '../core/feature-gate.ts';

export const AGENTS_FLAG = 'agents';

/** Whether agent runs may start in this team for the caller; false when the flag is missing (the safe default). */
export async function agentsEnabledFor(c: Context<PrincipalEnv>, teamId: string): Promise<boolean> {
  const { deps, principal } = c.var;
  await deps.flags.ready();
  return featureEnabled(deps.flags, AGENTS_FLAG, { userId: principal.id, teamId });
}

export const agentsDisabled = () =>
  new ApiError(
    403,
    'agents_disabled',
    'Agents are switched off for this team (feature flag "agents"); a platform admin can turn them on in the admin console under Flags.',
  );

/** Before a message is written: when it may mention an agent and the flag is off for its team, the mention
    starts no run (the message itself is posted as usual). `where` names the channel, or the parent of a followup. */
export async function holdAgentMentionsUnlessEnabled(
  c: Context<PrincipalEnv>,
  tx: Tx,
  body: string,
  where: { channelId: string } | { parentId: string },
): Promise<void> {
  if (!body.includes('@')) return;
  const [row] =
    'channelId' in where
      ? await tx<{ team_id: string }[]>`select team_id from public.channels where id = ${where.channelId}`
      : await tx<{ team_id: string }[]>`select team_id from public.messages where id = ${where.parentId}`;
  // an unknown channel or parent: the insert that follows refuses it with its own answer
  if (!row || (await agentsEnabledFor(c, row.team_id))) return;
  await tx`select set_config('app.agent_mentions', 'off', true)`;
}

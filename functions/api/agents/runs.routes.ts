// Agent runs: list a team's runs, get one with its steps, cancel one, approve or reject its pending action.
// Runs are started from agents.routes.ts (or by an @mention, in the database); workers/agents executes them.
import { z } from '@hono/zod-openapi';
import { conflict } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, PageLimit, securedRoute, Text, Timestamp, Uuid } from '../core/route.ts';
import { cancelRun, findRun, listRunSteps, listTeamRuns, resolveRunAction, runNotFound } from './agents.queries.ts';

const RUN_STATUSES = ['queued', 'in_progress', 'requires_action', 'completed', 'failed', 'cancelled', 'expired'] as const;

export const RunInput = z
  .record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean()]))
  .refine((input) => Object.keys(input).length <= 20, { message: 'must have at most 20 entries' })
  .refine((input) => Object.keys(input).length > 0, { message: 'must have at least one entry; leave it out for none' })
  .openapi({ description: 'What the run works on, e.g. {"messages": 10}', example: { messages: 10 } });

const Step = z
  .object({
    id: z.number().int(),
    kind: z.string(),
    status: z.enum(['started', 'succeeded', 'failed']),
    detail: z.record(z.string(), z.unknown()),
    attempt: z.number().int(),
    created_at: Timestamp,
    finished_at: Timestamp.nullable(),
  })
  .openapi('AgentRunStep');

export const Run = z
  .object({
    id: Uuid,
    team_id: Uuid,
    agent_id: Uuid,
    agent_name: z.string(),
    channel_id: Uuid.nullable(),
    trigger_message_id: Uuid.nullable(),
    input: z.record(z.string(), z.unknown()),
    status: z.enum(RUN_STATUSES),
    output: z.record(z.string(), z.unknown()).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    usage: z.record(z.string(), z.unknown()),
    pending_action: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'The action awaiting approval (requires_action)' }),
    correlation_id: z.string().nullable(),
    started_by: Uuid,
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    expires_at: Timestamp,
    attempts: z.number().int(),
    steps: z.array(Step),
  })
  .openapi('AgentRun');

const ListRunsQuery = z.strictObject({
  team_id: Uuid,
  agent_id: Uuid.optional(),
  status: z.enum(RUN_STATUSES, { message: `must be one of ${RUN_STATUSES.join(', ')}` }).optional(),
  limit: PageLimit,
});
const RunPath = z.strictObject({ runId: Uuid.openapi({ param: { name: 'runId', in: 'path' } }) });
const DecisionBody = z
  .strictObject({ approve: z.boolean(), note: Text(500).nullable().default(null) })
  .openapi('AgentRunDecision', { example: { approve: true, note: 'go ahead' } });

const list = securedRoute('agent.read', {
  method: 'get',
  path: '/',
  tags: ['agent runs'],
  summary: "A team's agent runs, newest first (without steps)",
  request: { query: ListRunsQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Run.omit({ steps: true })) }), 'The runs'), ...errorResponses(400, 404) },
});
const get = securedRoute('agent.read', {
  method: 'get',
  path: '/{runId}',
  tags: ['agent runs'],
  summary: 'A run with its steps',
  request: { params: RunPath },
  responses: { 200: jsonResponse(Run, 'The run'), ...errorResponses(400, 404) },
});
const cancel = securedRoute('agent.run', {
  method: 'post',
  path: '/{runId}/cancel',
  tags: ['agent runs'],
  summary: 'Cancel a run that has not finished (its starter, or a holder of agent.manage); a worker running it stops',
  request: { params: RunPath },
  responses: { 200: jsonResponse(Run, 'The cancelled run'), ...errorResponses(400, 404, 409) },
});
const decide = securedRoute('agent.run', {
  method: 'post',
  path: '/{runId}/action',
  tags: ['agent runs'],
  summary: "Approve or reject a run's pending action (requires_action); the run goes back to in_progress",
  request: { params: RunPath, body: jsonBody(DecisionBody, 'The decision') },
  responses: { 200: jsonResponse(Run, 'The run'), ...errorResponses(404, 409) },
});

export const runRoutes = createRouter()
  .openapi(list, async (c) => {
    const { team_id: teamId, agent_id: agentId, status, limit } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listTeamRuns(tx, { teamId, agentId, status, limit });
    });
    return c.json({ items }, 200);
  })
  .openapi(get, async (c) => {
    const { runId } = c.req.valid('param');
    const run = await inRequestTransaction(c, async (tx) => {
      const run = await findRun(tx, runId);
      if (!run) throw runNotFound();
      return { ...run, steps: await listRunSteps(tx, runId) };
    });
    return c.json(run, 200);
  })
  .openapi(cancel, async (c) => {
    const { runId } = c.req.valid('param');
    const run = await inRequestTransaction(c, async (tx) => {
      if (!(await cancelRun(tx, runId))) {
        const current = await findRun(tx, runId);
        throw conflict('agent_run_finished', `This run already ended (${current?.status ?? 'unknown'}); nothing to cancel.`);
      }
      const run = (await findRun(tx, runId))!;
      return { ...run, steps: await listRunSteps(tx, runId) };
    });
    return c.json(run, 200);
  })
  .openapi(decide, async (c) => {
    const { runId } = c.req.valid('param');
    const { approve, note } = c.req.valid('json');
    const run = await inRequestTransaction(c, async (tx) => {
      if (!(await resolveRunAction(tx, runId, approve, note))) {
        const current = await findRun(tx, runId);
        throw conflict(
          'agent_run_not_waiting',
          `This run is ${current?.status ?? 'unknown'}, not waiting for a decision (requires_action).`,
        );
      }
      const run = (await findRun(tx, runId))!;
      return { ...run, steps: await listRunSteps(tx, runId) };
    });
    return c.json(run, 200);
  });

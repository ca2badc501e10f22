// Agents of a team: register one (its service principal is made with it), list them, change or disable one,
// and start a run of one. Runs themselves are in runs.routes.ts.
import { z } from '@hono/zod-openapi';
import { enqueueEvent } from '../../_shared/outbox.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireTeamCapability } from '../core/pep.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import { agentsDisabled, agentsEnabledFor } from './agents-flag.ts';
import { agentNotFound, findAgent, listTeamAgents, registerAgent, startRun, updateAgent } from './agents.queries.ts';
import { Run, RunInput } from './runs.routes.ts';

/** The kinds of agent a worker knows how to run (workers/agents/kinds/). */
export const AGENT_KINDS = ['summarizer', 'llm'] as const;

const AgentConfig = z
  .record(z.string().max(64), z.union([z.string().max(500), z.number(), z.boolean()]))
  .refine((config) => Object.keys(config).length <= 20, { message: 'must have at most 20 settings' })
  // an explicitly empty config says nothing: leave it out for the kind's defaults
  .refine((config) => Object.keys(config).length > 0, { message: 'must name at least one setting; leave it out for the defaults' })
  .openapi({ description: 'Settings of the agent kind, e.g. {"messages": 20} for the summarizer', example: { messages: 20 } });
const TimeoutSeconds = z
  .number({ message: 'must be a whole number of seconds' })
  .int({ message: 'must be a whole number of seconds' })
  .min(5, { message: 'must be at least 5 seconds' })
  .max(3600, { message: 'must be at most 3600 seconds' });

const Agent = z
  .object({
    id: Uuid,
    team_id: Uuid,
    principal_id: Uuid.openapi({ description: "The agent's own account: its replies are authored by it" }),
    name: z.string().openapi({ description: 'Its handle: mention @name in a channel to start a run' }),
    kind: z.string(),
    config: z.record(z.string(), z.unknown()),
    bundle: z.string(),
    enabled: z.boolean(),
    run_timeout_seconds: z.number().int(),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Agent');

const RegisterAgentBody = z
  .strictObject({
    team_id: Uuid,
    name: z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/, {
      message: 'must be 2–40 lowercase letters, digits, "-" or "_", starting with a letter (its @handle)',
    }),
    kind: z.enum(AGENT_KINDS, { message: `must be one of ${AGENT_KINDS.join(', ')}` }),
    config: AgentConfig.optional(),
    bundle: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, { message: 'must be a key bundle name such as agent or read-only' })
      .default('agent'),
    run_timeout_seconds: TimeoutSeconds.default(300),
  })
  .openapi('RegisterAgent', {
    example: { team_id: '00000000-0000-4000-8000-0000000d3a00', name: 'summarizer', kind: 'summarizer', config: { messages: 20 } },
  });
const UpdateAgentBody = z
  .strictObject({ enabled: z.boolean().optional(), config: AgentConfig.optional(), run_timeout_seconds: TimeoutSeconds.optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one of enabled, config, run_timeout_seconds' })
  .openapi('UpdateAgent', { example: { enabled: false } });
const StartRunBody = z
  .strictObject({
    channel_id: Uuid.nullable().default(null).openapi({ description: 'Where the agent replies' }),
    input: RunInput.optional(),
  })
  .openapi('StartAgentRun', { example: { channel_id: '00000000-0000-4000-8000-00000000c4a1', input: { messages: 10 } } });
const TeamQuery = z.strictObject({ team_id: Uuid });
const AgentPath = z.strictObject({ agentId: Uuid.openapi({ param: { name: 'agentId', in: 'path' } }) });

const register = securedRoute('agent.manage', {
  method: 'post',
  path: '/',
  tags: ['agents'],
  summary: 'Register an agent in one of my teams (with its own service principal)',
  request: { body: jsonBody(RegisterAgentBody, 'The agent') },
  responses: { 201: jsonResponse(Agent, 'The agent'), ...errorResponses(404, 409) },
});
const list = securedRoute('agent.read', {
  method: 'get',
  path: '/',
  tags: ['agents'],
  summary: "A team's agents, by name",
  request: { query: TeamQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Agent) }), 'The agents'), ...errorResponses(400, 404) },
});
const update = securedRoute('agent.manage', {
  method: 'patch',
  path: '/{agentId}',
  tags: ['agents'],
  summary: 'Enable or disable an agent, or change its settings',
  request: { params: AgentPath, body: jsonBody(UpdateAgentBody, 'What changes') },
  responses: { 200: jsonResponse(Agent, 'The agent'), ...errorResponses(404) },
});
const start = securedRoute('agent.run', {
  method: 'post',
  path: '/{agentId}/runs',
  tags: ['agent runs'],
  summary: 'Start a run of an agent (queued; an agent worker takes it)',
  request: { params: AgentPath, body: jsonBody(StartRunBody, 'Where to reply and the input') },
  responses: { 201: jsonResponse(Run, 'The queued run'), ...errorResponses(403, 404, 409) },
});

export const agentRoutes = createRouter()
  .openapi(register, async (c) => {
    const body = c.req.valid('json');
    const agent = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, body.team_id);
      await requireTeamCapability(tx, body.team_id, 'agent.manage');
      return registerAgent(
        tx,
        {
          teamId: body.team_id,
          name: body.name,
          kind: body.kind,
          config: body.config ?? {},
          bundle: body.bundle,
          timeoutSeconds: body.run_timeout_seconds,
        },
        c.var.requestId,
      );
    });
    return c.json(agent, 201);
  })
  .openapi(list, async (c) => {
    const { team_id: teamId } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listTeamAgents(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(update, async (c) => {
    const { agentId } = c.req.valid('param');
    const body = c.req.valid('json');
    const agent = await inRequestTransaction(c, async (tx) => {
      const current = await findAgent(tx, agentId);
      if (!current) throw agentNotFound();
      await requireTeamCapability(tx, current.team_id, 'agent.manage');
      const changed = await updateAgent(tx, agentId, {
        enabled: body.enabled,
        config: body.config,
        timeoutSeconds: body.run_timeout_seconds,
      });
      if (!changed) throw agentNotFound();
      const payload = { agent_id: agentId, team_id: changed.team_id, enabled: changed.enabled, updated_by: c.var.principal.id };
      await enqueueEvent(tx, { type: 'agent.updated', aggregateId: agentId, payload, correlationId: c.var.requestId });
      return changed;
    });
    return c.json(agent, 200);
  })
  .openapi(start, async (c) => {
    const { agentId } = c.req.valid('param');
    const body = c.req.valid('json');
    const run = await inRequestTransaction(c, async (tx) => {
      const agent = await findAgent(tx, agentId);
      if (!agent) throw agentNotFound();
      if (!(await agentsEnabledFor(c, agent.team_id))) throw agentsDisabled();
      return startRun(tx, { agentId, channelId: body.channel_id, input: body.input ?? {} }, c.var.requestId);
    });
    return c.json({ ...run, steps: [] }, 201);
  });

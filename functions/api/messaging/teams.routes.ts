// Teams: create one (the caller becomes its owner), list mine, list the members. People join a team by accepting
// an invitation (invitations.routes.ts), never by being added.
import { z } from '@hono/zod-openapi';
import { enqueueEvent, recordAudit } from '../../_shared/outbox.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, Name, Timestamp, securedRoute, Uuid } from '../core/route.ts';
import { insertTeam, listMyTeams, listTeamMembers } from './teams.queries.ts';

const TeamRole = z.enum(['owner', 'admin', 'member']);

const Team = z
  .object({
    id: Uuid,
    name: z.string(),
    role: TeamRole.openapi({ description: "The caller's role" }),
    created_by: Uuid,
    created_at: Timestamp,
  })
  .openapi('Team');
const Member = z.object({ user_id: Uuid, display_name: z.string(), role: TeamRole, joined_at: Timestamp }).openapi('TeamMember');

const CreateTeamBody = z.strictObject({ name: Name(80) }).openapi('CreateTeam', { example: { name: 'Solar Co-op' } });
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });

const createTeam = securedRoute('team.create', {
  method: 'post',
  path: '/',
  tags: ['teams'],
  summary: 'Create a team; the caller becomes its owner',
  request: { body: jsonBody(CreateTeamBody, 'The new team') },
  responses: { 201: jsonResponse(Team, 'The team') },
});

const listTeams = securedRoute('team.list', {
  method: 'get',
  path: '/',
  tags: ['teams'],
  summary: "The caller's teams, with the caller's role in each",
  responses: { 200: jsonResponse(z.object({ items: z.array(Team) }), 'The teams') },
});

const listMembers = securedRoute('member.read', {
  method: 'get',
  path: '/{teamId}/members',
  tags: ['teams'],
  summary: 'Members of one of my teams',
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(Member) }), 'The members'), ...errorResponses(400, 404) },
});

export const teamRoutes = createRouter()
  .openapi(createTeam, async (c) => {
    const { name } = c.req.valid('json');
    const requestId = c.var.requestId;
    const team = await inRequestTransaction(c, async (tx) => {
      const team = await insertTeam(tx, name);
      const payload = { team_id: team.id, name: team.name, created_by: team.created_by };
      await enqueueEvent(tx, { type: 'team.created', aggregateId: team.id, payload, correlationId: requestId });
      await recordAudit(tx, {
        action: 'team.created',
        targetType: 'team',
        targetId: team.id,
        teamId: team.id,
        requestId,
        details: { name },
      });
      return team;
    });
    return c.json(team, 201);
  })
  .openapi(listTeams, async (c) => {
    const items = await inRequestTransaction(c, (tx) => listMyTeams(tx));
    return c.json({ items }, 200);
  })
  .openapi(listMembers, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listTeamMembers(tx, teamId);
    });
    return c.json({ items }, 200);
  });

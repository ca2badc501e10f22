// Team invitations: a team's inviters invite an email address, list and revoke the pending invitations; the
// person signed in with that address lists theirs and accepts or declines. Inviting answers the same whether or
// not an account uses the address (no account enumeration). A member leaves a team with POST …/leave.
import { z } from '@hono/zod-openapi';
import { ApiError, conflict, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { capabilityMissing } from '../core/pep.ts';
import { requireVisibleTeam, teamNotFound } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import {
  findTeamInvitation,
  inviteToTeam,
  leaveTeam,
  listMyInvitations,
  listTeamInvitations,
  respondToInvitation,
  revokeInvitation,
  type RespondOutcome,
} from './invitations.queries.ts';

const DEFAULT_VALID_DAYS = 7;
const MAX_VALID_DAYS = 30;

const TeamRole = z.enum(['owner', 'admin', 'member']);
const Invitation = z
  .object({
    id: Uuid,
    team_id: Uuid,
    email: z.string(),
    role: TeamRole,
    status: z.enum(['pending', 'accepted', 'declined', 'revoked', 'expired']),
    invited_by: Uuid,
    created_at: Timestamp,
    expires_at: Timestamp,
  })
  .openapi('TeamInvitation');
const MyInvitation = z
  .object({
    id: Uuid,
    team_id: Uuid,
    team_name: z.string(),
    role: TeamRole,
    invited_by_name: z.string(),
    created_at: Timestamp,
    expires_at: Timestamp,
  })
  .openapi('MyInvitation');

const InviteBody = z
  .strictObject({
    email: z.email({ message: 'must be an email address' }).max(254, { message: 'must be at most 254 characters' }),
    role: TeamRole.default('member'),
    expires_in_days: z
      .number({ message: 'must be a whole number of days' })
      .int({ message: 'must be a whole number of days' })
      .min(1, { message: 'must be at least 1 day' })
      .max(MAX_VALID_DAYS, { message: `must be at most ${MAX_VALID_DAYS} days` })
      .default(DEFAULT_VALID_DAYS),
  })
  .openapi('InviteToTeam', { example: { email: 'bob@demo.local', role: 'member', expires_in_days: 7 } });

const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const TeamInvitationPath = TeamPath.extend({ invitationId: Uuid.openapi({ param: { name: 'invitationId', in: 'path' } }) });
const InvitationPath = z.strictObject({ invitationId: Uuid.openapi({ param: { name: 'invitationId', in: 'path' } }) });

const invitationNotFound = () =>
  notFound('invitation_not_found', 'No invitation with this id is addressed to you; list yours with GET /api/invitations/mine.');
const invitationNotPending = () =>
  conflict('invitation_not_pending', 'This invitation was already answered or revoked; ask the team for a new one.');

const invite = securedRoute('member.invite', {
  method: 'post',
  path: '/teams/{teamId}/invitations',
  tags: ['invitations'],
  summary: 'Invite an email address to the team (an owner invitation also needs member.role.manage)',
  description:
    'Answers the same whether or not an account uses the address. Inviting a pending address again renews that ' +
    'invitation (new role and expiry, same id). The person joins only by accepting it.',
  request: { params: TeamPath, body: jsonBody(InviteBody, 'Who to invite, with which role, for how long') },
  responses: { 201: jsonResponse(Invitation, 'The pending invitation'), ...errorResponses(404, 409) },
});

const listTeam = securedRoute('member.invite', {
  method: 'get',
  path: '/teams/{teamId}/invitations',
  tags: ['invitations'],
  summary: "The team's pending invitations",
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(Invitation) }), 'The invitations'), ...errorResponses(404) },
});

const revoke = securedRoute('member.invite', {
  method: 'post',
  path: '/teams/{teamId}/invitations/{invitationId}/revoke',
  tags: ['invitations'],
  summary: 'Revoke a pending invitation',
  request: { params: TeamInvitationPath },
  responses: { 200: jsonResponse(Invitation, 'The revoked invitation'), ...errorResponses(404, 409) },
});

const listMine = securedRoute('invitation.respond', {
  method: 'get',
  path: '/invitations/mine',
  tags: ['invitations'],
  summary: 'My pending invitations (addressed to the email I signed in with)',
  responses: { 200: jsonResponse(z.object({ items: z.array(MyInvitation) }), 'The invitations') },
});

const respondRoute = (action: 'accept' | 'decline') =>
  securedRoute('invitation.respond', {
    method: 'post',
    path: `/invitations/{invitationId}/${action}`,
    tags: ['invitations'],
    summary: action === 'accept' ? 'Accept an invitation: join the team with its role' : 'Decline an invitation',
    request: { params: InvitationPath },
    responses: {
      200: jsonResponse(
        z.object({ invitation_id: Uuid, status: z.enum(['accepted', 'declined']) }).openapi('InvitationAnswer'),
        'The answer',
      ),
      ...errorResponses(404, 409),
    },
  });

const leave = securedRoute('team.leave', {
  method: 'post',
  path: '/teams/{teamId}/leave',
  tags: ['teams'],
  summary: 'Leave a team (its last owner cannot: make someone else owner first)',
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ team_id: Uuid, left: z.literal(true) }), 'Left'), ...errorResponses(404, 409) },
});

function answerError(outcome: Exclude<RespondOutcome, 'accepted' | 'declined'>): ApiError {
  if (outcome === 'not_found') return invitationNotFound();
  if (outcome === 'expired') return conflict('invitation_expired', 'This invitation has expired; ask the team to invite you again.');
  return invitationNotPending();
}

export const invitationRoutes = createRouter()
  .openapi(invite, async (c) => {
    const { teamId } = c.req.valid('param');
    const { email, role, expires_in_days: validDays } = c.req.valid('json');
    const invitation = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const { outcome, invitationId } = await inviteToTeam(tx, { teamId, email, role, validDays, requestId: c.var.requestId });
      if (outcome === 'not_allowed') throw capabilityMissing(role === 'owner' ? 'member.role.manage' : 'member.invite');
      if (outcome === 'already_member') throw conflict('already_member', `${email} is already a member of this team.`);
      return (await findTeamInvitation(tx, teamId, invitationId!))!;
    });
    return c.json(invitation, 201);
  })
  .openapi(listTeam, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listTeamInvitations(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(revoke, async (c) => {
    const { teamId, invitationId } = c.req.valid('param');
    const invitation = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const outcome = await revokeInvitation(tx, teamId, invitationId, c.var.requestId);
      if (outcome === 'not_allowed') throw capabilityMissing('member.role.manage');
      if (outcome === 'not_found')
        throw notFound(
          'invitation_not_found',
          'No invitation with this id in this team; list them with GET /api/teams/{teamId}/invitations.',
        );
      if (outcome === 'not_pending') throw invitationNotPending();
      return (await findTeamInvitation(tx, teamId, invitationId))!;
    });
    return c.json(invitation, 200);
  })
  .openapi(listMine, async (c) => {
    const items = await inRequestTransaction(c, (tx) => listMyInvitations(tx));
    return c.json({ items }, 200);
  })
  .openapi(respondRoute('accept'), async (c) => {
    const { invitationId } = c.req.valid('param');
    const outcome = await inRequestTransaction(c, (tx) => respondToInvitation(tx, invitationId, true, c.var.requestId));
    // an expired invitation is closed in the database even though the answer is an error
    if (outcome !== 'accepted') throw answerError(outcome as Exclude<RespondOutcome, 'accepted' | 'declined'>);
    return c.json({ invitation_id: invitationId, status: 'accepted' as const }, 200);
  })
  .openapi(respondRoute('decline'), async (c) => {
    const { invitationId } = c.req.valid('param');
    const outcome = await inRequestTransaction(c, (tx) => respondToInvitation(tx, invitationId, false, c.var.requestId));
    if (outcome !== 'declined') throw answerError(outcome as Exclude<RespondOutcome, 'accepted' | 'declined'>);
    return c.json({ invitation_id: invitationId, status: 'declined' as const }, 200);
  })
  .openapi(leave, async (c) => {
    const { teamId } = c.req.valid('param');
    const outcome = await inRequestTransaction(c, (tx) => leaveTeam(tx, teamId, c.var.requestId));
    if (outcome === 'not_member') throw teamNotFound();
    if (outcome === 'last_owner')
      throw conflict('last_owner', 'You are the last owner of this team; make another member owner before you leave.');
    return c.json({ team_id: teamId, left: true as const }, 200);
  });

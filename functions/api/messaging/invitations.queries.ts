// SQL of team invitations. Each step is one security-definer function (migration 20261204000300) that checks
// the caller itself and writes the state change, its outbox event and its audit entry together; the gateway
// maps the outcome it returns to an answer. Reads run under RLS.
import type { Tx } from '../../_shared/db.ts';
import type { TeamRole } from './teams.queries.ts';

export interface InvitationRow {
  id: string;
  team_id: string;
  email: string;
  role: TeamRole;
  status: 'pending' | 'accepted' | 'declined' | 'revoked' | 'expired';
  invited_by: string;
  created_at: string;
  expires_at: string;
}

export interface MyInvitationRow {
  id: string;
  team_id: string;
  team_name: string;
  role: TeamRole;
  invited_by_name: string;
  created_at: string;
  expires_at: string;
}

export type InviteOutcome = 'invited' | 'already_member' | 'not_allowed';
export type RespondOutcome = 'accepted' | 'declined' | 'not_found' | 'expired' | 'not_pending';
export type RevokeOutcome = 'revoked' | 'not_found' | 'not_pending' | 'not_allowed';
export type LeaveOutcome = 'left' | 'not_member' | 'last_owner';

export async function inviteToTeam(
  tx: Tx,
  invite: { teamId: string; email: string; role: TeamRole; validDays: number; requestId: string },
): Promise<{ outcome: InviteOutcome; invitationId: string | null }> {
  const [row] = await tx<{ outcome: InviteOutcome; invitation_id: string | null }[]>`
    select outcome, invitation_id from app.invite_to_team(
      ${invite.teamId}, ${invite.email}, ${invite.role}, make_interval(days => ${invite.validDays}), ${invite.requestId})`;
  return { outcome: row!.outcome, invitationId: row!.invitation_id };
}

/** One invitation of a team, as its inviters see it (RLS: holders of member.invite). */
export async function findTeamInvitation(tx: Tx, teamId: string, invitationId: string): Promise<InvitationRow | null> {
  const [row] = await tx<InvitationRow[]>`
    select id, team_id, email, role, status, invited_by, created_at, expires_at
    from public.team_invitations where team_id = ${teamId} and id = ${invitationId}`;
  return row ?? null;
}

/** The team's pending invitations still in time, oldest first. */
export function listTeamInvitations(tx: Tx, teamId: string): Promise<InvitationRow[]> {
  return tx<InvitationRow[]>`
    select id, team_id, email, role, status, invited_by, created_at, expires_at
    from public.team_invitations
    where team_id = ${teamId} and status = 'pending' and expires_at > now()
    order by created_at, id`;
}

export function listMyInvitations(tx: Tx): Promise<MyInvitationRow[]> {
  return tx<MyInvitationRow[]>`select * from app.my_invitations()`;
}

export async function respondToInvitation(tx: Tx, invitationId: string, accept: boolean, requestId: string): Promise<RespondOutcome> {
  const [row] = await tx<{ outcome: RespondOutcome }[]>`
    select app.respond_to_invitation(${invitationId}, ${accept}, ${requestId}) as outcome`;
  return row!.outcome;
}

export async function revokeInvitation(tx: Tx, teamId: string, invitationId: string, requestId: string): Promise<RevokeOutcome> {
  const [row] = await tx<{ outcome: RevokeOutcome }[]>`
    select app.revoke_invitation(${teamId}, ${invitationId}, ${requestId}) as outcome`;
  return row!.outcome;
}

export async function leaveTeam(tx: Tx, teamId: string, requestId: string): Promise<LeaveOutcome> {
  const [row] = await tx<{ outcome: LeaveOutcome }[]>`select app.leave_team(${teamId}, ${requestId}) as outcome`;
  return row!.outcome;
}

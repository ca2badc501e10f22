// SQL of the teams resource. Every function runs inside a user transaction (withUserTransaction), so RLS
// scopes each statement to the caller; run under another user's claims, they see and change nothing of a
// team that user is not in.
import type { Tx } from '../../_shared/db.ts';

export type TeamRole = 'owner' | 'admin' | 'member';

export interface TeamRow {
  id: string;
  name: string;
  created_by: string;
  created_at: string;
  role: TeamRole;
}

export interface MemberRow {
  user_id: string;
  display_name: string;
  role: TeamRole;
  joined_at: string;
}

/** Creates a team owned by the caller (a trigger adds the creator as owner in the same statement). */
export async function insertTeam(tx: Tx, name: string): Promise<TeamRow> {
  const [team] = await tx<TeamRow[]>`
    insert into public.teams (name, created_by) values (${name}, (select auth.uid()))
    returning id, name, created_by, created_at, 'owner'::public.team_role as role`;
  return team!;
}

/** The caller's teams with the caller's role in each, oldest first. */
export function listMyTeams(tx: Tx): Promise<TeamRow[]> {
  return tx<TeamRow[]>`
    select t.id, t.name, t.created_by, t.created_at, tm.role
    from public.teams t
    join public.team_members tm on tm.team_id = t.id and tm.user_id = (select auth.uid())
    order by t.created_at, t.id`;
}

/** Ids of the teams the caller acts in: a user's memberships, an access key's team. */
export async function listActingTeamIds(tx: Tx): Promise<string[]> {
  const rows = await tx<{ id: string }[]>`select app.current_user_team_ids() as id`;
  return rows.map((row) => row.id);
}

/** Members of a team the caller belongs to, in joining order. */
export function listTeamMembers(tx: Tx, teamId: string): Promise<MemberRow[]> {
  return tx<MemberRow[]>`
    select tm.user_id, p.display_name, tm.role, tm.created_at as joined_at
    from public.team_members tm
    join public.profiles p on p.id = tm.user_id
    where tm.team_id = ${teamId}
    order by tm.created_at, tm.user_id`;
}

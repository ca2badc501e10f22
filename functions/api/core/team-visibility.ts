// Every domain is team-scoped, and every domain answers a team the caller cannot see the same way: 404, as
// for an id that does not exist, so ids do not leak. RLS decides visibility (holders of team.read in it, and
// its creator); this asks it.
import type { Tx } from '../../_shared/db.ts';
import { notFound } from '../../_shared/errors.ts';

export async function teamIsVisible(tx: Tx, teamId: string): Promise<boolean> {
  const rows = await tx`select 1 from public.teams where id = ${teamId}`;
  return rows.length > 0;
}

export const teamNotFound = () => notFound('team_not_found', 'No team with this id has you as a member; list yours with GET /api/teams.');

/** Throws team_not_found unless the team is visible to the request's principal. */
export async function requireVisibleTeam(tx: Tx, teamId: string): Promise<void> {
  if (!(await teamIsVisible(tx, teamId))) throw teamNotFound();
}

// SQL of the channels resource; runs inside a user transaction, so RLS scopes every statement to the caller.
import type { Tx } from '../../_shared/db.ts';
import type { TeamRole } from './teams.queries.ts';

export interface ChannelRow {
  id: string;
  team_id: string;
  name: string;
  topic: string | null;
  archived_at: string | null;
  created_by: string;
  created_at: string;
}

/** A channel with the caller's role in its team (null only if the caller left the team mid-request). */
export type ChannelAccessRow = ChannelRow & { my_role: TeamRole | null };

/** Creates a channel in a team visible to the caller; null if the team already has a channel of that name. */
export async function insertChannel(tx: Tx, channel: { teamId: string; name: string; topic: string | null }): Promise<ChannelRow | null> {
  const [row] = await tx<ChannelRow[]>`
    insert into public.channels (team_id, name, topic, created_by)
    select t.id, ${channel.name}, ${channel.topic}, (select auth.uid())
    from public.teams t
    where t.id = ${channel.teamId}
    on conflict (team_id, name) do nothing
    returning id, team_id, name, topic, archived_at, created_by, created_at`;
  return row ?? null;
}

/** A team's channels by name; archived ones only when asked for. */
export function listTeamChannels(tx: Tx, teamId: string, includeArchived: boolean): Promise<ChannelRow[]> {
  return tx<ChannelRow[]>`
    select id, team_id, name, topic, archived_at, created_by, created_at
    from public.channels
    where team_id = ${teamId} and (${includeArchived}::boolean or archived_at is null)
    order by name, id`;
}

export async function findChannel(tx: Tx, channelId: string): Promise<ChannelAccessRow | null> {
  const [row] = await tx<ChannelAccessRow[]>`
    select c.id, c.team_id, c.name, c.topic, c.archived_at, c.created_by, c.created_at, tm.role as my_role
    from public.channels c
    left join public.team_members tm on tm.team_id = c.team_id and tm.user_id = (select auth.uid())
    where c.id = ${channelId}`;
  return row ?? null;
}

/** Archives an open channel; RLS lets only its creator and the team's owners and admins do it. */
export async function archiveChannel(tx: Tx, channelId: string): Promise<ChannelRow | null> {
  const [row] = await tx<ChannelRow[]>`
    update public.channels set archived_at = now()
    where id = ${channelId} and archived_at is null
    returning id, team_id, name, topic, archived_at, created_by, created_at`;
  return row ?? null;
}

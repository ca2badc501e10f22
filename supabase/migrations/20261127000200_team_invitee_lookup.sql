-- Adding a team member by email: an owner or admin can turn an email address into an account id for a team
-- they manage, while profiles' row-level security keeps showing emails only to teammates. The membership
-- insert itself still runs as the user, under team_members' policies (owners add anyone, admins add members
-- and admins).
--
-- Rolled back by supabase/rollbacks/20261127000200_team_invitee_lookup.sql.

/** The account id behind an email address, for an owner or admin of target_team; null for anyone else and
    for an address nobody signed up with. Security definer: it reads profiles past RLS, so it answers only
    the one question, and only to the people allowed to add members. */
create function app.team_invitee_id(target_team uuid, invitee_email text) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select p.id
  from public.profiles p
  where lower(p.email) = lower(invitee_email)
    and app.has_team_role(target_team, array['owner', 'admin']::public.team_role[])
$$;

revoke all on function app.team_invitee_id(uuid, text) from public;
grant execute on function app.team_invitee_id(uuid, text) to authenticated, service_role;

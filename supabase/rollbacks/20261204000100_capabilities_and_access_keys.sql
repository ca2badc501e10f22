-- Rollback of 20261204000100_capabilities_and_access_keys.sql: the core tables' policies as 20261127000100
-- wrote them (by team role), the helpers as before, and the capability, bundle and key tables gone. Service
-- principals' accounts are deleted with them (their messages go too, by the profiles cascade).

-- policies back onto team roles
drop policy if exists "Teams are visible to whoever holds team.read in them, and to their creator" on public.teams;
drop policy if exists "Signed-in people create teams they own (keys do not)" on public.teams;
drop policy if exists "Holders of team.manage rename their team" on public.teams;
create policy "Teams are visible to their members and their creator" on public.teams
  for select to authenticated
  using (id in (select app.current_user_team_ids()) or created_by = (select auth.uid()));
create policy "Signed-in users create teams they own" on public.teams
  for insert to authenticated
  with check (created_by = (select auth.uid()));
create policy "Team owners and admins rename their team" on public.teams
  for update to authenticated
  using (app.has_team_role(id, array['owner', 'admin']::public.team_role[]))
  with check (app.has_team_role(id, array['owner', 'admin']::public.team_role[]));

drop policy if exists "Holders of member.read see who is in their teams" on public.team_members;
drop policy if exists "Holders of member.invite add members; owners only with member.role.manage" on public.team_members;
drop policy if exists "Holders of member.role.manage change members' roles" on public.team_members;
drop policy if exists "Members leave; holders of member.remove remove members, owners only with member.role.manage" on public.team_members;
create policy "Members see who else is in their teams" on public.team_members
  for select to authenticated
  using (team_id in (select app.current_user_team_ids()));
create policy "Owners add anyone, admins add members and admins" on public.team_members
  for insert to authenticated
  with check (
    app.has_team_role(team_id, array['owner']::public.team_role[])
    or (role <> 'owner' and app.has_team_role(team_id, array['admin']::public.team_role[]))
  );
create policy "Owners change members' roles" on public.team_members
  for update to authenticated
  using (app.has_team_role(team_id, array['owner']::public.team_role[]))
  with check (app.has_team_role(team_id, array['owner']::public.team_role[]));
create policy "Owners and admins remove members, and members leave" on public.team_members
  for delete to authenticated
  using (
    user_id = (select auth.uid())
    or app.has_team_role(team_id, array['owner']::public.team_role[])
    or (role = 'member' and app.has_team_role(team_id, array['admin']::public.team_role[]))
  );

drop policy if exists "Principals see their own profile, their teammates' and their team's service principals'" on public.profiles;
create policy "Users see their own profile and their teammates' profiles" on public.profiles
  for select to authenticated
  using (
    id = (select auth.uid())
    or id in (select user_id from public.team_members where team_id in (select app.current_user_team_ids()))
  );

drop policy if exists "Holders of channel.read see their team's channels" on public.channels;
drop policy if exists "Holders of channel.create create channels" on public.channels;
drop policy if exists "Creators change their channels; holders of channel.manage change any" on public.channels;
create policy "Team members see their team's channels" on public.channels
  for select to authenticated
  using (team_id in (select app.current_user_team_ids()));
create policy "Team members create channels in their team" on public.channels
  for insert to authenticated
  with check (created_by = (select auth.uid()) and team_id in (select app.current_user_team_ids()));
create policy "Channel creators, owners and admins change or archive a channel" on public.channels
  for update to authenticated
  using (
    team_id in (select app.current_user_team_ids())
    and (created_by = (select auth.uid()) or app.has_team_role(team_id, array['owner', 'admin']::public.team_role[]))
  )
  with check (team_id in (select app.current_user_team_ids()));

drop policy if exists "Holders of message.read read their team's messages" on public.messages;
drop policy if exists "Holders of message.write post as themselves in open channels" on public.messages;
drop policy if exists "Authors holding message.write edit and soft-delete their own messages" on public.messages;
create policy "Team members read their channels' messages" on public.messages
  for select to authenticated
  using (team_id in (select app.current_user_team_ids()));
create policy "Team members post as themselves in open channels" on public.messages
  for insert to authenticated
  with check (
    author_id = (select auth.uid())
    and team_id in (select app.current_user_team_ids())
    and exists (select 1 from public.channels c where c.id = channel_id and c.archived_at is null)
  );
create policy "Authors edit and soft-delete their own messages" on public.messages
  for update to authenticated
  using (author_id = (select auth.uid()) and team_id in (select app.current_user_team_ids()))
  with check (author_id = (select auth.uid()) and team_id in (select app.current_user_team_ids()));

drop policy if exists "Holders of audit.read read their team's audit log" on public.audit_log;
create policy "Team owners and admins read their team's audit log" on public.audit_log
  for select to authenticated
  using (app.has_team_role(team_id, array['owner', 'admin']::public.team_role[]));

create or replace function app.team_invitee_id(target_team uuid, invitee_email text) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select p.id
  from public.profiles p
  where lower(p.email) = lower(invitee_email)
    and app.has_team_role(target_team, array['owner', 'admin']::public.team_role[])
$$;

create or replace function app.current_user_team_ids() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select team_id from public.team_members where user_id = (select auth.uid())
$$;

-- the service principals' accounts (their profiles, keys and writes cascade)
delete from auth.users where id in (select id from public.service_principals);

drop trigger if exists teams_a_grant_default_role_bundles on public.teams;
drop table if exists public.access_keys;
drop table if exists public.service_principals;
drop table if exists public.team_role_bundles;
drop table if exists public.bundle_capabilities;
drop table if exists public.bundles;
drop table if exists public.capabilities;

drop function if exists app.rotate_access_key(uuid, bytea, text, timestamptz, interval);
drop function if exists app.audit_access_key();
drop function if exists app.audit_team_role_bundle();
drop function if exists app.touch_access_key(uuid);
drop function if exists app.find_access_key(bytea);
drop function if exists app.revoke_access_key(uuid);
drop function if exists app.create_access_key(uuid, uuid, text, text, text, bytea, text, timestamptz, uuid);
drop function if exists app.create_service_principal(uuid, text, text);
drop function if exists app.capabilities_of_user(uuid);
drop function if exists app.acting_as_key();
drop function if exists app.has_capability(uuid, text);
drop function if exists app.teams_with_capability(text);
drop function if exists app.current_access_key();
drop function if exists app.guard_access_key();
drop function if exists app.grant_default_role_bundles();
drop function if exists app.guard_team_role_bundle();
drop function if exists app.guard_bundle_capability();

-- Rollback of 20261205001000_key_lookup_only_for_keys.sql: the two helpers as 20261204000100 defined them
-- (the key branch runs for every caller; same answers).
create or replace function app.current_user_team_ids() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select team_id from public.team_members where user_id = (select auth.uid())
  union all
  select team_id from app.current_access_key()
$$;

create or replace function app.teams_with_capability(wanted text) returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select tm.team_id
  from public.team_members tm
  join public.team_role_bundles rb on rb.team_id = tm.team_id and rb.role = tm.role
  join public.bundle_capabilities bc on bc.bundle = rb.bundle and bc.capability = wanted
  where tm.user_id = (select auth.uid())
  union
  select k.team_id
  from app.current_access_key() k
  join public.bundle_capabilities bc on bc.bundle = k.bundle and bc.capability = wanted
$$;

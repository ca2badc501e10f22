-- Rollback of 20261205001400_plan_cached_capability_helpers.sql: the helpers as `language sql` again, as
-- 20261204000100, 20261204000210, 20261204000300 and 20261205001000 left them (same answers, planned per call).
create or replace function app.current_access_key() returns table (team_id uuid, bundle text)
language sql stable
security definer
set search_path = ''
as $$
  select k.team_id, k.bundle
  from public.access_keys k
  where k.id = ((select auth.jwt()) ->> 'key_id')::uuid
    and k.principal_id = (select auth.uid())
    and k.revoked_at is null
    and k.expires_at > now()
$$;

create or replace function app.current_user_team_ids() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select team_id from public.team_members where user_id = (select auth.uid())
  union all
  select k.team_id from app.current_access_key() k
  where ((select auth.jwt()) ->> 'key_id') is not null
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
  where ((select auth.jwt()) ->> 'key_id') is not null
$$;

create or replace function app.has_capability(target_team uuid, wanted text) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select exists (select 1 from app.teams_with_capability(wanted) t where t = target_team)
$$;

create or replace function app.acting_as_key() returns boolean
language sql stable
set search_path = ''
as $$
  select ((select auth.jwt()) ->> 'key_id') is not null
$$;

create or replace function app.current_person_email() returns text
language sql stable
security definer
set search_path = ''
as $$
  select lower(p.email) from public.profiles p
  where p.id = (select auth.uid()) and not (select app.acting_as_key()) and p.email <> ''
$$;

create or replace function app.caller_is_api_client() returns boolean
language sql stable
set search_path = ''
as $$
  select (select auth.uid()) is not null or current_setting('role', true) in ('authenticated', 'anon')
$$;

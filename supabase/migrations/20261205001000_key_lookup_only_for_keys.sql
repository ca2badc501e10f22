-- Performance (issue 18): a session without an access key no longer looks one up. The request's teams and
-- capabilities read app.current_access_key() in a union branch that finds no row when the claims carry no
-- `key_id`; the branch now starts with that test, a one-time filter that skips the function call. Profiled
-- (bench/api/profile-write.ts): the key lookup ran 5 times per message transaction, ≈ 12% of its time.
-- Same answers for every caller: without `key_id` the branch returned no row before too.
--
-- Rolled back by supabase/rollbacks/20261205001000_key_lookup_only_for_keys.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** Ids of the teams the request's principal acts in: a user's memberships, or a live key's team. */
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

/** Ids of the teams in which the request's principal holds `wanted`: through its role's bundles for a user,
    through its bundle for a live key. Policies call it as `team_id in (select app.teams_with_capability(...))`,
    which Postgres evaluates once per statement. */
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

-- Performance (issue 18): the helpers every policy calls keep their query plans for the session. They are
-- SECURITY DEFINER with a fixed search_path, so Postgres cannot inline them; as `language sql` functions their
-- body was then planned again on every call (the plan of a non-inlined SQL function lives for one statement).
-- A message insert calls app.teams_with_capability 4 times: bench/api/profile-write.ts measured ≈ 290 µs per
-- call, most of it planning the two-branch union. As plpgsql, the body's plan is prepared once per backend
-- and reused (also behind a transaction-mode pooler: the backend outlives the transaction).
-- Same queries, same answers, same privileges; only the language changes.
--
-- Rolled back by supabase/rollbacks/20261205001400_plan_cached_capability_helpers.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** The live access key the request acts with (none for a user's session): team and bundle. */
create or replace function app.current_access_key() returns table (team_id uuid, bundle text)
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return query
  select k.team_id, k.bundle
  from public.access_keys k
  where k.id = ((select auth.jwt()) ->> 'key_id')::uuid
    and k.principal_id = (select auth.uid())
    and k.revoked_at is null
    and k.expires_at > now();
end
$$;

/** Ids of the teams the request's principal acts in: a user's memberships, or a live key's team. */
create or replace function app.current_user_team_ids() returns setof uuid
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return query
  select tm.team_id from public.team_members tm where tm.user_id = (select auth.uid())
  union all
  select k.team_id from app.current_access_key() k
  where ((select auth.jwt()) ->> 'key_id') is not null;
end
$$;

/** Ids of the teams in which the request's principal holds `wanted`: through its role's bundles for a user,
    through its bundle for a live key. Policies call it as `team_id in (select app.teams_with_capability(...))`,
    which Postgres evaluates once per statement. */
create or replace function app.teams_with_capability(wanted text) returns setof uuid
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return query
  select tm.team_id
  from public.team_members tm
  join public.team_role_bundles rb on rb.team_id = tm.team_id and rb.role = tm.role
  join public.bundle_capabilities bc on bc.bundle = rb.bundle and bc.capability = wanted
  where tm.user_id = (select auth.uid())
  union
  select k.team_id
  from app.current_access_key() k
  join public.bundle_capabilities bc on bc.bundle = k.bundle and bc.capability = wanted
  where ((select auth.jwt()) ->> 'key_id') is not null;
end
$$;

/** Whether the request's principal holds `wanted` in `target_team`: the SQL twin of the gateway's PEP. */
create or replace function app.has_capability(target_team uuid, wanted text) returns boolean
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from app.teams_with_capability(wanted) t where t = target_team);
end
$$;

/** Whether the request runs under an access key rather than a human's session. */
create or replace function app.acting_as_key() returns boolean
language plpgsql stable
set search_path = ''
as $$
begin
  return ((select auth.jwt()) ->> 'key_id') is not null;
end
$$;

/** The signed-in person's e-mail (lower case); null under an access key. */
create or replace function app.current_person_email() returns text
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return (select lower(p.email) from public.profiles p
          where p.id = (select auth.uid()) and not (select app.acting_as_key()) and p.email <> '');
end
$$;

/** Whether the caller came through the API (a signed-in user, a key, or the anon/authenticated role), as
    opposed to a trusted server connection; app.enqueue_event checks an API caller's team. */
create or replace function app.caller_is_api_client() returns boolean
language plpgsql stable
set search_path = ''
as $$
begin
  return (select auth.uid()) is not null or current_setting('role', true) in ('authenticated', 'anon');
end
$$;

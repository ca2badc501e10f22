-- Helpers shared by the pgTAP files, loaded with \ir at the top of each (pg_prove runs every file in its own
-- session). Created inside the file's transaction, so they vanish with its rollback.

create schema tests;
grant usage on schema tests to anon, authenticated;

/** Act as a signed-in user for the rest of the transaction, the way the gateway does for a request. */
create function tests.authenticate_as(user_id uuid) returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', user_id, 'role', 'authenticated', 'aud', 'authenticated')::text, true);
  set local role authenticated;
end
$$;

/** Act as an unauthenticated caller (the anon key). */
create function tests.authenticate_as_anon() returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', '{"role":"anon"}', true);
  set local role anon;
end
$$;

/** Back to the test's own superuser role, to arrange data or look behind RLS. */
create function tests.clear_authentication() returns void
language plpgsql
as $$
begin
  reset role;
  perform set_config('request.jwt.claims', '', true);
end
$$;

grant execute on all functions in schema tests to anon, authenticated;

/** How many rows a statement changed, run with the caller's current role (so RLS applies). */
create function tests.rows_affected(statement text) returns integer
language plpgsql
as $$
declare
  affected integer;
begin
  execute statement;
  get diagnostics affected = row_count;
  return affected;
end
$$;
grant execute on function tests.rows_affected(text) to anon, authenticated;

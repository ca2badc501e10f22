-- Compat bootstrap: gives a plain PostgreSQL 15 the pieces of a Supabase project that our migrations rely on
-- (API roles, the auth schema with auth.users and the auth.uid()/auth.jwt()/auth.role() helpers), and the
-- grants a Supabase project hands out by itself (default privileges in public, the extensions schema, the API
-- roles' statement timeouts), so every migration and test meets the privileges it will meet in production.
-- scripts/migrate.sh applies it only when the target is NOT a Supabase project; never run it against one.
-- Every statement is idempotent: roles are cluster-wide and survive across databases.

-- ---------------------------------------------------------------------------------------------------------
-- Roles, as PostgREST and Supabase define them
-- ---------------------------------------------------------------------------------------------------------
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
-- The connecting user must be able to `set local role authenticated`, as Supabase's postgres user can.
do $$
begin
  execute format('grant anon, authenticated, service_role to %I', current_user);
exception when others then
  null; -- a superuser needs no grant; a user that already has it raises nothing either
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- auth schema: the subset of Supabase Auth's tables and helpers the application uses
-- ---------------------------------------------------------------------------------------------------------
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

/** Accounts, as Supabase Auth (GoTrue) keeps them; only the columns the platform reads. */
create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  email text unique,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  raw_app_meta_data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

/** The claims of the current request's JWT, as PostgREST sets them for the transaction. */
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

/** The signed-in user's id (the JWT's sub), or null. */
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

/** The JWT's role claim: anon, authenticated or service_role. */
create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

/** The JWT's email claim. */
create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email() to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------
-- What a Supabase project grants without being asked
-- ---------------------------------------------------------------------------------------------------------
-- Written from Supabase's documentation, not copied from its setup scripts:
-- * supabase.com/kb/troubleshooting/cant-change-the-default-privileges-of-supabase_admin-in-the-public-schema:
--   supabase_admin's default privileges give anon, authenticated and service_role all privileges on the
--   tables, sequences and functions it creates in public, and no project can change them.
-- * supabase.com/docs/guides/database/data-api ("Default privileges for new entities"): with that setting on,
--   postgres's default privileges in public grant the same roles access to new tables and functions. The
--   setting is off for projects created since 2026-05-30 and was turned off for older ones on 2026-10-30
--   (supabase.com/changelog, 2026-04-28), but a project may turn it back on; we reproduce the widest case, ALL
--   on tables, sequences and functions, so the migrations must revoke whatever a project might grant.
-- Here every object is created by the connecting role (postgres locally), which therefore stands in for both
-- postgres and supabase_admin. No role named supabase_admin is created: scripts/migrate.sh takes its
-- existence as the sign of a Supabase project, and roles are shared by every database of the cluster.
-- Default privileges belong to the database, so each database that gets this bootstrap gets them.
do $$
begin
  execute format('alter default privileges for role %I in schema public grant all on tables to anon, authenticated, service_role', current_user);
  execute format('alter default privileges for role %I in schema public grant all on sequences to anon, authenticated, service_role', current_user);
  execute format('alter default privileges for role %I in schema public grant all on functions to anon, authenticated, service_role', current_user);
end
$$;
grant usage on schema public to anon, authenticated, service_role;

-- Extensions live in their own schema, usable by every API role; pgcrypto and uuid-ossp come installed
-- (supabase.com/docs/guides/database/extensions: "Most extensions are installed under the extensions schema,
-- which is accessible to public by default"; .../extensions/uuid-ossp: enabled by default). Migrations call
-- them schema-qualified (extensions.digest(...)), which works the same here and on Supabase.
create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

-- Statement timeouts of the API roles (supabase.com/docs/guides/database/postgres/timeouts: anon 3s,
-- authenticated 8s; service_role none, so it falls back to the authenticator role's 8s). Role settings apply
-- at login only, not on SET ROLE: the gateway bounds its own transactions (DB_STATEMENT_TIMEOUT_MS). Set for
-- this database only, so the other databases of a shared cluster keep their settings.
do $$
begin
  execute format('alter role anon in database %I set statement_timeout = %L', current_database(), '3s');
  execute format('alter role authenticated in database %I set statement_timeout = %L', current_database(), '8s');
  execute format('alter role authenticator in database %I set statement_timeout = %L', current_database(), '8s');
end
$$;

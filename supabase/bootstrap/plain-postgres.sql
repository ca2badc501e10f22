-- Compat bootstrap: gives a plain PostgreSQL 15 the pieces of a Supabase project that our migrations rely on
-- (API roles, the auth schema with auth.users and the auth.uid()/auth.jwt()/auth.role() helpers).
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

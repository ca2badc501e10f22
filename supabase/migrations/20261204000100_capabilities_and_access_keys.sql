-- Capabilities, bundles and access keys: the policy the gateway enforces as its PEP, held in the database so
-- row-level security and security-definer functions enforce the very same thing.
--
-- - `capabilities` is the catalog of what can be done (`message.write`, `payout.approve`, ...); each has a scope:
--   `team` (held in a team through a bundle), `account` (every human account), `principal` (every signed-in
--   principal, human or key) or `platform` (platform admins, from app_metadata).
-- - `bundles` group team capabilities; a team grants bundles to its roles (`team_role_bundles`, seeded with
--   owner → owner, admin → admin, member → member) and every access key carries exactly one key bundle.
-- - `service_principals` are the identities of agents and integrations: an account of their own (so their
--   writes, e.g. an agent's reply, are authored by them), in one team, never a team member.
-- - `access_keys` let a service principal call the API: stored only as a SHA-256 hash, one team, one bundle,
--   a bounded expiry, revocable; several live keys per principal for rotation.
-- - `app.teams_with_capability(c)` / `app.has_capability(team, c)` answer for the request's principal (a user
--   through their role's bundles, a key through its bundle while it is live); the policies below use them.
-- Grants of bundles to roles and every key created, rotated or revoked are audited by triggers.
--
-- Rolled back by supabase/rollbacks/20261204000100_capabilities_and_access_keys.sql.

-- =========================================================================================================
-- Catalog
-- =========================================================================================================

/** What can be done. Names are `<resource>.<action>`; functions/_shared/capabilities.ts lists the same set
    (a test keeps the two in step). */
create table public.capabilities (
  name text primary key check (name ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
  description text not null check (char_length(description) between 1 and 300),
  scope text not null check (scope in ('team', 'account', 'principal', 'platform')),
  -- a refused call needing a privileged capability is written to the audit log
  privileged boolean not null default false
);

/** A named set of team capabilities, granted to a team role or carried by an access key. */
create table public.bundles (
  name text primary key check (name ~ '^[a-z][a-z0-9-]*$'),
  description text not null check (char_length(description) between 1 and 300),
  granted_to text not null check (granted_to in ('role', 'key'))
);

/** Which capabilities a bundle holds. Only team-scoped capabilities belong in bundles. */
create table public.bundle_capabilities (
  bundle text not null references public.bundles (name) on delete cascade,
  capability text not null references public.capabilities (name) on delete cascade,
  primary key (bundle, capability)
);

/** Refuses a non-team capability in a bundle: account, principal and platform capabilities are not granted. */
create function app.guard_bundle_capability() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (select scope from public.capabilities where name = new.capability) <> 'team' then
    raise exception 'capability % is not team-scoped and cannot be put in a bundle', new.capability using errcode = '22023';
  end if;
  return new;
end
$$;
create trigger bundle_capabilities_guard before insert or update on public.bundle_capabilities
  for each row execute function app.guard_bundle_capability();

insert into public.capabilities (name, scope, privileged, description) values
  ('team.create', 'account', false, 'Create a team (the creator becomes its owner)'),
  ('team.list', 'account', false, 'List the teams one belongs to'),
  ('invitation.respond', 'account', false, 'Accept or decline an invitation to a team'),
  ('self.read', 'principal', false, 'Read who the caller is: account or key, team and bundle'),
  ('live.subscribe', 'principal', false, 'Receive live events of the caller''s teams'),
  ('platform.admin', 'platform', true, 'Operate the platform: status, audit across teams'),
  ('team.read', 'team', false, 'See the team'),
  ('team.manage', 'team', true, 'Rename the team'),
  ('member.read', 'team', false, 'See the team''s members'),
  ('member.invite', 'team', true, 'Invite people to the team'),
  ('member.remove', 'team', true, 'Remove members from the team'),
  ('member.role.manage', 'team', true, 'Change members'' roles, invite or remove owners'),
  ('grant.manage', 'team', true, 'Grant bundles to the team''s roles and revoke them'),
  ('channel.read', 'team', false, 'Read the team''s channels'),
  ('channel.create', 'team', false, 'Create channels'),
  ('channel.manage', 'team', true, 'Archive anyone''s channel'),
  ('message.read', 'team', false, 'Read messages'),
  ('message.write', 'team', false, 'Post, edit and delete one''s own messages'),
  ('audit.read', 'team', true, 'Read the team''s audit log'),
  ('key.manage', 'team', true, 'Create, rotate and revoke the team''s access keys'),
  ('agent.run', 'team', false, 'Start agent runs'),
  ('payout.propose', 'team', false, 'Request payouts from the treasury'),
  ('payout.approve', 'team', true, 'Approve payouts'),
  ('embassy.ingest', 'team', false, 'Deliver partner (Embassy) webhooks'),
  ('governance.vote', 'team', false, 'Vote on proposals'),
  ('flag.manage', 'team', true, 'Change feature flags'),
  ('storage.write', 'team', false, 'Upload files');

insert into public.bundles (name, granted_to, description) values
  ('member', 'role', 'What every member of a team can do'),
  ('admin', 'role', 'A member''s rights, plus managing members, channels, keys and the audit log'),
  ('owner', 'role', 'An admin''s rights, plus roles, grants and the team itself'),
  ('agent', 'key', 'An agent: reads and writes messages, starts runs'),
  ('embassy-partner', 'key', 'An integration partner: delivers its webhooks'),
  ('read-only', 'key', 'Reads the team, its channels and messages');

insert into public.bundle_capabilities (bundle, capability)
select b.bundle, c.capability
from (values
  ('member', array['team.read', 'member.read', 'channel.read', 'channel.create', 'message.read', 'message.write',
                   'agent.run', 'payout.propose', 'governance.vote', 'storage.write']),
  ('admin', array['team.read', 'member.read', 'channel.read', 'channel.create', 'message.read', 'message.write',
                  'agent.run', 'payout.propose', 'governance.vote', 'storage.write',
                  'member.invite', 'member.remove', 'channel.manage', 'audit.read', 'key.manage', 'payout.approve']),
  ('owner', array['team.read', 'member.read', 'channel.read', 'channel.create', 'message.read', 'message.write',
                  'agent.run', 'payout.propose', 'governance.vote', 'storage.write',
                  'member.invite', 'member.remove', 'channel.manage', 'audit.read', 'key.manage', 'payout.approve',
                  'team.manage', 'member.role.manage', 'grant.manage', 'flag.manage']),
  ('agent', array['team.read', 'member.read', 'channel.read', 'message.read', 'message.write', 'agent.run']),
  ('embassy-partner', array['embassy.ingest']),
  ('read-only', array['team.read', 'member.read', 'channel.read', 'message.read'])
) as b (bundle, capabilities), unnest(b.capabilities) as c (capability);

-- =========================================================================================================
-- Bundles granted to a team's roles
-- =========================================================================================================

/** Which bundles a team grants to each of its roles; a member holds the union of their role's bundles. */
create table public.team_role_bundles (
  team_id uuid not null references public.teams (id) on delete cascade,
  role public.team_role not null,
  bundle text not null references public.bundles (name),
  -- null for the defaults every team starts with
  granted_by uuid references public.profiles (id) on delete set null,
  granted_at timestamptz not null default now(),
  primary key (team_id, role, bundle)
);

/** Only role bundles go to roles, and the owner role keeps the owner bundle (a team must stay manageable). */
create function app.guard_team_role_bundle() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' and (select granted_to from public.bundles where name = new.bundle) <> 'role' then
    raise exception 'bundle % is for access keys and cannot be granted to a role', new.bundle using errcode = '22023';
  end if;
  if tg_op = 'DELETE' and old.role = 'owner' and old.bundle = 'owner'
     and exists (select 1 from public.teams where id = old.team_id) then
    raise exception 'the owner role keeps the owner bundle' using errcode = '42501';
  end if;
  return coalesce(new, old);
end
$$;
create trigger team_role_bundles_guard before insert or delete on public.team_role_bundles
  for each row execute function app.guard_team_role_bundle();

/** A new team grants the default bundles: owner → owner, admin → admin, member → member. */
create function app.grant_default_role_bundles() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- granted_by null: the platform's defaults, not a grant anyone made (so not audited)
  insert into public.team_role_bundles (team_id, role, bundle)
  values (new.id, 'owner', 'owner'), (new.id, 'admin', 'admin'), (new.id, 'member', 'member');
  return new;
end
$$;
-- named to run before teams_add_creator_as_owner (triggers fire in name order): nothing depends on it, but
-- the creator is an owner with rights from the first statement on
create trigger teams_a_grant_default_role_bundles after insert on public.teams
  for each row execute function app.grant_default_role_bundles();

insert into public.team_role_bundles (team_id, role, bundle)
select t.id, r.role, r.role::text
from public.teams t, unnest(array['owner', 'admin', 'member']::public.team_role[]) as r (role)
on conflict do nothing;

-- =========================================================================================================
-- Service principals and access keys
-- =========================================================================================================

/** The identity of an agent or an integration: an account of its own (auth.users + profile), so what it
    writes is authored by it, scoped to one team. It cannot sign in (no password, no email) and is never a
    team member: it acts through its access keys only. */
create table public.service_principals (
  id uuid primary key references public.profiles (id) on delete cascade,
  team_id uuid not null references public.teams (id) on delete cascade,
  kind text not null check (kind in ('agent', 'integration')),
  name text not null check (char_length(name) between 1 and 80),
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (id, team_id)
);
create index service_principals_team_idx on public.service_principals (team_id);

/** A key a service principal calls the API with: `mdao_<env>_<random>_<checksum>`, stored only as the
    SHA-256 of the whole key. Live while not revoked and not expired. */
create table public.access_keys (
  id uuid primary key default gen_random_uuid(),
  principal_id uuid not null,
  team_id uuid not null,
  bundle text not null references public.bundles (name),
  name text not null check (char_length(name) between 1 and 80),
  environment text not null check (environment in ('local', 'test', 'dev', 'staging', 'prod')),
  key_hash bytea not null unique check (octet_length(key_hash) = 32),
  -- the start of the key (`mdao_prod_AbCd`), enough for a person to tell keys apart, useless to an attacker
  display_prefix text not null check (char_length(display_prefix) between 8 and 24),
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_by uuid references public.profiles (id) on delete set null,
  -- written at most once a minute per key (gateway and SQL both hold back)
  last_used_at timestamptz,
  -- the key this one replaced, when created by a rotation
  rotated_from uuid references public.access_keys (id) on delete set null,
  foreign key (principal_id, team_id) references public.service_principals (id, team_id) on delete cascade,
  check (expires_at > created_at and expires_at <= created_at + interval '366 days')
);
create index access_keys_team_idx on public.access_keys (team_id, created_at desc);
create index access_keys_principal_idx on public.access_keys (principal_id);

/** Keys carry key bundles only. */
create function app.guard_access_key() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (select granted_to from public.bundles where name = new.bundle) <> 'key' then
    raise exception 'bundle % is for team roles, not for access keys', new.bundle using errcode = '22023';
  end if;
  return new;
end
$$;
create trigger access_keys_guard before insert or update of bundle on public.access_keys
  for each row execute function app.guard_access_key();

-- =========================================================================================================
-- The principal of the request, and what it may do
-- =========================================================================================================

/** The live access key the request runs under (from the `key_id` claim, which only the gateway sets after
    checking the key's hash): its team and bundle; no row for a human, or for a key revoked or expired since. */
create function app.current_access_key() returns table (team_id uuid, bundle text)
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

/** Ids of the teams the request's principal acts in: a user's memberships, or a live key's team. */
create or replace function app.current_user_team_ids() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select team_id from public.team_members where user_id = (select auth.uid())
  union all
  select team_id from app.current_access_key()
$$;

/** Ids of the teams in which the request's principal holds `wanted`: through its role's bundles for a user,
    through its bundle for a live key. Policies call it as `team_id in (select app.teams_with_capability(...))`,
    which Postgres evaluates once per statement. */
create function app.teams_with_capability(wanted text) returns setof uuid
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

/** Whether the request's principal holds `wanted` in `target_team`: the SQL twin of the gateway's PEP. */
create function app.has_capability(target_team uuid, wanted text) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select exists (select 1 from app.teams_with_capability(wanted) t where t = target_team)
$$;

/** Whether the request runs under an access key rather than a human's session. */
create function app.acting_as_key() returns boolean
language sql stable
set search_path = ''
as $$
  select ((select auth.jwt()) ->> 'key_id') is not null
$$;

/** Team capabilities of a user, per team: what the gateway's PEP caches (service role only). */
create function app.capabilities_of_user(target_user uuid) returns table (team_id uuid, capabilities text[])
language sql stable
security definer
set search_path = ''
as $$
  select tm.team_id, array_agg(distinct bc.capability order by bc.capability)
  from public.team_members tm
  join public.team_role_bundles rb on rb.team_id = tm.team_id and rb.role = tm.role
  join public.bundle_capabilities bc on bc.bundle = rb.bundle
  where tm.user_id = target_user
  group by tm.team_id
$$;

-- =========================================================================================================
-- Keys: created, rotated and revoked through these functions only (they check key.manage and audit)
-- =========================================================================================================

/** Creates a service principal in a team for an owner or admin holding key.manage: an account without
    password or email, and its profile (by the auth.users trigger). */
create function app.create_service_principal(target_team uuid, principal_kind text, principal_name text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  principal uuid := gen_random_uuid();
begin
  if app.acting_as_key() or not app.has_capability(target_team, 'key.manage') then
    raise exception 'capability key.manage is missing in team %', target_team using errcode = '42501';
  end if;
  insert into auth.users (id, raw_user_meta_data, raw_app_meta_data)
  values (principal, jsonb_build_object('display_name', principal_name),
          jsonb_build_object('principal_kind', principal_kind, 'team_id', target_team));
  insert into public.service_principals (id, team_id, kind, name, created_by)
  values (principal, target_team, principal_kind, principal_name, (select auth.uid()));
  return principal;
end
$$;

/** Records a new key of a principal of the team (the gateway made the key and sends its hash only). */
create function app.create_access_key(
  target_team uuid, principal uuid, key_bundle text, key_name text, key_environment text, hash bytea,
  prefix text, expires timestamptz, replaces uuid default null
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  key_id uuid;
begin
  if app.acting_as_key() or not app.has_capability(target_team, 'key.manage') then
    raise exception 'capability key.manage is missing in team %', target_team using errcode = '42501';
  end if;
  insert into public.access_keys (principal_id, team_id, bundle, name, environment, key_hash, display_prefix,
    created_by, expires_at, rotated_from)
  values (principal, target_team, key_bundle, key_name, key_environment, hash, prefix, (select auth.uid()), expires, replaces)
  returning id into key_id;
  return key_id;
end
$$;

/** Revokes a live key of the team; false when it is unknown to the caller or already revoked. */
create function app.revoke_access_key(target_key uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  key_team uuid;
begin
  select team_id into key_team from public.access_keys where id = target_key;
  if key_team is null or app.acting_as_key() or not app.has_capability(key_team, 'key.manage') then
    return false;
  end if;
  update public.access_keys set revoked_at = now(), revoked_by = (select auth.uid())
  where id = target_key and revoked_at is null;
  return found;
end
$$;

/** A key by the hash of its text, for the gateway's authentication (service role only). */
create function app.find_access_key(hash bytea)
returns table (
  key_id uuid, principal_id uuid, principal_kind text, principal_name text, team_id uuid, bundle text,
  environment text, expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz
)
language sql stable
security definer
set search_path = ''
as $$
  select k.id, k.principal_id, p.kind, p.name, k.team_id, k.bundle, k.environment, k.expires_at, k.revoked_at, k.last_used_at
  from public.access_keys k
  join public.service_principals p on p.id = k.principal_id
  where k.key_hash = hash
$$;

/** Notes that a key was used; at most once a minute per key, whoever asks (service role only). */
create function app.touch_access_key(target_key uuid) returns void
language sql
security definer
set search_path = ''
as $$
  update public.access_keys set last_used_at = now()
  where id = target_key and (last_used_at is null or last_used_at < now() - interval '1 minute')
$$;

-- =========================================================================================================
-- Audit: every grant, revoke and key change, whoever makes it
-- =========================================================================================================

/** Writes the audit entry of a role-bundle grant or revocation. */
create function app.audit_team_role_bundle() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  row public.team_role_bundles := coalesce(new, old);
begin
  if tg_op = 'DELETE' and not exists (select 1 from public.teams where id = row.team_id) then
    return old; -- the team is being deleted: nothing left to audit against
  end if;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), row.team_id, case tg_op when 'INSERT' then 'bundle.granted' else 'bundle.revoked' end,
          'team_role', row.role::text, (select auth.jwt()) ->> 'request_id', jsonb_build_object('bundle', row.bundle));
  return row;
end
$$;
create trigger team_role_bundles_audit_grant after insert on public.team_role_bundles
  for each row when (new.granted_by is not null) execute function app.audit_team_role_bundle();
create trigger team_role_bundles_audit_revoke after delete on public.team_role_bundles
  for each row execute function app.audit_team_role_bundle();

/** Writes the audit entry of a key created, rotated or revoked. */
create function app.audit_access_key() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  action text;
begin
  if tg_op = 'INSERT' then
    action := case when new.rotated_from is null then 'key.created' else 'key.rotated' end;
  elsif new.revoked_at is not null and old.revoked_at is null then
    action := 'key.revoked';
  else
    return new;
  end if;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), new.team_id, action, 'access_key', new.id::text, (select auth.jwt()) ->> 'request_id',
          jsonb_build_object('name', new.name, 'bundle', new.bundle, 'principal_id', new.principal_id,
                             'expires_at', new.expires_at, 'rotated_from', new.rotated_from));
  return new;
end
$$;
create trigger access_keys_audit after insert or update of revoked_at on public.access_keys
  for each row execute function app.audit_access_key();

-- =========================================================================================================
-- Row-level security: the new tables, and the core tables' policies moved onto capabilities
-- =========================================================================================================
alter table public.capabilities enable row level security;
alter table public.bundles enable row level security;
alter table public.bundle_capabilities enable row level security;
alter table public.team_role_bundles enable row level security;
alter table public.service_principals enable row level security;
alter table public.access_keys enable row level security;

create policy "Signed-in principals read the capability catalog" on public.capabilities
  for select to authenticated using (true);
create policy "Signed-in principals read the bundles" on public.bundles
  for select to authenticated using (true);
create policy "Signed-in principals read what each bundle holds" on public.bundle_capabilities
  for select to authenticated using (true);

create policy "Members see which bundles their team grants to each role" on public.team_role_bundles
  for select to authenticated
  using (team_id in (select app.current_user_team_ids()));
create policy "Holders of grant.manage grant bundles to their team's roles" on public.team_role_bundles
  for insert to authenticated
  with check (team_id in (select app.teams_with_capability('grant.manage')) and granted_by = (select auth.uid()));
create policy "Holders of grant.manage revoke bundles from their team's roles" on public.team_role_bundles
  for delete to authenticated
  using (team_id in (select app.teams_with_capability('grant.manage')));

create policy "Members see their team's agents and integrations" on public.service_principals
  for select to authenticated
  using (team_id in (select app.teams_with_capability('member.read')));

create policy "Holders of key.manage see their team's keys" on public.access_keys
  for select to authenticated
  using (team_id in (select app.teams_with_capability('key.manage')));

-- teams
drop policy "Teams are visible to their members and their creator" on public.teams;
create policy "Teams are visible to whoever holds team.read in them, and to their creator" on public.teams
  for select to authenticated
  using (id in (select app.teams_with_capability('team.read')) or created_by = (select auth.uid()));
drop policy "Signed-in users create teams they own" on public.teams;
create policy "Signed-in people create teams they own (keys do not)" on public.teams
  for insert to authenticated
  with check (created_by = (select auth.uid()) and not (select app.acting_as_key()));
drop policy "Team owners and admins rename their team" on public.teams;
create policy "Holders of team.manage rename their team" on public.teams
  for update to authenticated
  using (id in (select app.teams_with_capability('team.manage')))
  with check (id in (select app.teams_with_capability('team.manage')));

-- team members
drop policy "Members see who else is in their teams" on public.team_members;
create policy "Holders of member.read see who is in their teams" on public.team_members
  for select to authenticated
  using (team_id in (select app.teams_with_capability('member.read')) or user_id = (select auth.uid()));
drop policy "Owners add anyone, admins add members and admins" on public.team_members;
create policy "Holders of member.invite add members; owners only with member.role.manage" on public.team_members
  for insert to authenticated
  with check (
    team_id in (select app.teams_with_capability('member.invite'))
    and (role <> 'owner' or team_id in (select app.teams_with_capability('member.role.manage')))
  );
drop policy "Owners change members' roles" on public.team_members;
create policy "Holders of member.role.manage change members' roles" on public.team_members
  for update to authenticated
  using (team_id in (select app.teams_with_capability('member.role.manage')))
  with check (team_id in (select app.teams_with_capability('member.role.manage')));
drop policy "Owners and admins remove members, and members leave" on public.team_members;
create policy "Members leave; holders of member.remove remove members, owners only with member.role.manage" on public.team_members
  for delete to authenticated
  using (
    user_id = (select auth.uid())
    or (team_id in (select app.teams_with_capability('member.remove'))
        and (role = 'member' or team_id in (select app.teams_with_capability('member.role.manage'))))
  );

-- profiles: teammates, and the team's agents and integrations
drop policy "Users see their own profile and their teammates' profiles" on public.profiles;
create policy "Principals see their own profile, their teammates' and their team's service principals'" on public.profiles
  for select to authenticated
  using (
    id = (select auth.uid())
    or id in (select user_id from public.team_members where team_id in (select app.teams_with_capability('member.read')))
    or id in (select sp.id from public.service_principals sp where sp.team_id in (select app.teams_with_capability('member.read')))
  );

-- channels
drop policy "Team members see their team's channels" on public.channels;
create policy "Holders of channel.read see their team's channels" on public.channels
  for select to authenticated
  using (team_id in (select app.teams_with_capability('channel.read')));
drop policy "Team members create channels in their team" on public.channels;
create policy "Holders of channel.create create channels" on public.channels
  for insert to authenticated
  with check (created_by = (select auth.uid()) and team_id in (select app.teams_with_capability('channel.create')));
drop policy "Channel creators, owners and admins change or archive a channel" on public.channels;
create policy "Creators change their channels; holders of channel.manage change any" on public.channels
  for update to authenticated
  using (
    team_id in (select app.teams_with_capability('channel.manage'))
    or (created_by = (select auth.uid()) and team_id in (select app.teams_with_capability('channel.create')))
  )
  with check (team_id in (select app.teams_with_capability('channel.read')));

-- messages
drop policy "Team members read their channels' messages" on public.messages;
create policy "Holders of message.read read their team's messages" on public.messages
  for select to authenticated
  using (team_id in (select app.teams_with_capability('message.read')));
drop policy "Team members post as themselves in open channels" on public.messages;
create policy "Holders of message.write post as themselves in open channels" on public.messages
  for insert to authenticated
  with check (
    author_id = (select auth.uid())
    and team_id in (select app.teams_with_capability('message.write'))
    and exists (select 1 from public.channels c where c.id = channel_id and c.archived_at is null)
  );
drop policy "Authors edit and soft-delete their own messages" on public.messages;
create policy "Authors holding message.write edit and soft-delete their own messages" on public.messages
  for update to authenticated
  using (author_id = (select auth.uid()) and team_id in (select app.teams_with_capability('message.write')))
  with check (author_id = (select auth.uid()) and team_id in (select app.teams_with_capability('message.write')));

-- audit log
drop policy "Team owners and admins read their team's audit log" on public.audit_log;
create policy "Holders of audit.read read their team's audit log" on public.audit_log
  for select to authenticated
  using (team_id in (select app.teams_with_capability('audit.read')));

-- the invitee lookup answered owners and admins by role; it now asks for member.invite
create or replace function app.team_invitee_id(target_team uuid, invitee_email text) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select p.id
  from public.profiles p
  where lower(p.email) = lower(invitee_email)
    and app.has_capability(target_team, 'member.invite')
$$;

-- =========================================================================================================
-- Privileges
-- =========================================================================================================
revoke all on public.capabilities, public.bundles, public.bundle_capabilities, public.team_role_bundles,
  public.service_principals, public.access_keys from public, anon, authenticated;

grant select on public.capabilities, public.bundles, public.bundle_capabilities to authenticated;
grant select, insert (team_id, role, bundle, granted_by), delete on public.team_role_bundles to authenticated;
grant select on public.service_principals to authenticated;
-- never the hash
grant select (id, principal_id, team_id, bundle, name, environment, display_prefix, created_by, created_at,
  expires_at, revoked_at, revoked_by, last_used_at, rotated_from) on public.access_keys to authenticated;

grant all on public.capabilities, public.bundles, public.bundle_capabilities, public.team_role_bundles,
  public.service_principals, public.access_keys to service_role;

revoke all on function app.guard_bundle_capability(), app.guard_team_role_bundle(), app.grant_default_role_bundles(),
  app.guard_access_key(), app.current_access_key(), app.teams_with_capability(text), app.has_capability(uuid, text),
  app.acting_as_key(), app.capabilities_of_user(uuid), app.create_service_principal(uuid, text, text),
  app.create_access_key(uuid, uuid, text, text, text, bytea, text, timestamptz, uuid), app.revoke_access_key(uuid),
  app.find_access_key(bytea), app.touch_access_key(uuid), app.audit_team_role_bundle(), app.audit_access_key()
  from public, anon, authenticated;

grant execute on function app.teams_with_capability(text), app.has_capability(uuid, text), app.acting_as_key(), app.create_service_principal(uuid, text, text),
  app.create_access_key(uuid, uuid, text, text, text, bytea, text, timestamptz, uuid), app.revoke_access_key(uuid)
  to authenticated, service_role;
grant execute on function app.find_access_key(bytea), app.touch_access_key(uuid), app.capabilities_of_user(uuid),
  app.current_access_key() to service_role;

/** Replaces a key of the team with a new one for the same principal, bundle and name: the old key stays live
    for `overlap` (so running agents can switch over) or is revoked at once when it is zero. Returns the new
    key's id; null when the old key is unknown to the caller, revoked or expired. */
create function app.rotate_access_key(
  old_key uuid, hash bytea, prefix text, expires timestamptz, overlap interval
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  old public.access_keys;
  key_id uuid;
begin
  select * into old from public.access_keys where id = old_key;
  if old.id is null or app.acting_as_key() or not app.has_capability(old.team_id, 'key.manage')
     or old.revoked_at is not null or old.expires_at <= now() then
    return null;
  end if;
  if overlap < interval '0' or overlap > interval '30 days' then
    raise exception 'the overlap of a rotation is between 0 and 30 days' using errcode = '22023';
  end if;
  key_id := app.create_access_key(old.team_id, old.principal_id, old.bundle, old.name, old.environment, hash, prefix, expires, old.id);
  if overlap = interval '0' then
    update public.access_keys set revoked_at = now(), revoked_by = (select auth.uid()) where id = old.id;
  else
    update public.access_keys set expires_at = least(expires_at, now() + overlap) where id = old.id;
  end if;
  return key_id;
end
$$;
revoke all on function app.rotate_access_key(uuid, bytea, text, timestamptz, interval) from public, anon, authenticated;
grant execute on function app.rotate_access_key(uuid, bytea, text, timestamptz, interval) to authenticated, service_role;

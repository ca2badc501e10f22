-- Schema core: user profiles linked to auth.users, teams and their members, channels, messages with
-- followups (threaded replies), the audit log and the transactional outbox.
--
-- Tenancy lives here, not in handler code: every table has row-level security, and the gateway runs each
-- user request as `authenticated` with the caller's JWT claims, so a forgotten check in a handler still
-- cannot reach another team's rows. Writes that must not be forged by a user (outbox events, audit entries)
-- go through security-definer functions in the private `app` schema, which the Data API does not expose.
--
-- Rolled back by supabase/rollbacks/20261127000100_schema_core.sql.

-- =========================================================================================================
-- Private schema for helpers
-- =========================================================================================================
create schema app;
revoke all on schema app from public;
grant usage on schema app to authenticated, service_role;

create type public.team_role as enum ('owner', 'admin', 'member');

/** Keeps updated_at honest without every writer remembering it. */
create function app.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- =========================================================================================================
-- Profiles
-- =========================================================================================================

/** One profile per account in auth.users; created by a trigger when the account is. */
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null,
  display_name text not null check (char_length(display_name) between 1 and 80),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index profiles_email_key on public.profiles (lower(email));
create trigger profiles_touch_updated_at before update on public.profiles
  for each row execute function app.touch_updated_at();

/** Creates the profile of a new auth user; display name from metadata, else the email's local part. */
create function app.create_profile_for_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, display_name)
  values (
    new.id,
    coalesce(new.email, ''),
    left(coalesce(nullif(new.raw_user_meta_data ->> 'display_name', ''), split_part(coalesce(new.email, 'user'), '@', 1), 'user'), 80)
  )
  on conflict (id) do nothing;
  return new;
end
$$;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function app.create_profile_for_new_user();

-- =========================================================================================================
-- Teams and membership
-- =========================================================================================================

/** A microDAO team: the unit of tenancy. */
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 80),
  created_by uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger teams_touch_updated_at before update on public.teams
  for each row execute function app.touch_updated_at();

/** Who belongs to which team, and with what rights. */
create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role public.team_role not null default 'member',
  created_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
create index team_members_user_id_idx on public.team_members (user_id);

/** The creator of a team becomes its owner in the same statement, so a team never lacks one. */
create function app.add_creator_as_owner() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.team_members (team_id, user_id, role) values (new.id, new.created_by, 'owner');
  return new;
end
$$;
create trigger teams_add_creator_as_owner after insert on public.teams
  for each row execute function app.add_creator_as_owner();

/** Ids of the teams the signed-in user belongs to. Security definer so policies on team_members can use it
    without recursing into their own policy. */
create function app.current_user_team_ids() returns setof uuid
language sql stable
security definer
set search_path = ''
as $$
  select team_id from public.team_members where user_id = (select auth.uid())
$$;

/** Whether the signed-in user holds one of the given roles in a team. */
create function app.has_team_role(target_team uuid, allowed public.team_role[]) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.team_members
    where team_id = target_team and user_id = (select auth.uid()) and role = any (allowed)
  )
$$;

-- =========================================================================================================
-- Channels and messages
-- =========================================================================================================

/** A conversation space inside a team. Archived channels are read-only. */
create table public.channels (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 80),
  topic text check (char_length(topic) <= 500),
  archived_at timestamptz,
  created_by uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, name),
  -- lets messages reference (channel, team) so a message can never sit in another team's channel
  unique (id, team_id)
);
create trigger channels_touch_updated_at before update on public.channels
  for each row execute function app.touch_updated_at();

/** A message in a channel; parent_id set makes it a followup (threaded reply) to a top-level message.
    Deleting is soft: deleted_at is set and the API stops returning the body. */
create table public.messages (
  id uuid primary key default gen_random_uuid(),
  channel_id uuid not null,
  team_id uuid not null,
  author_id uuid not null references public.profiles (id),
  parent_id uuid,
  body text not null check (char_length(body) between 1 and 8000),
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  foreign key (channel_id, team_id) references public.channels (id, team_id) on delete cascade,
  -- a followup lives in its parent's channel
  unique (id, channel_id),
  foreign key (parent_id, channel_id) references public.messages (id, channel_id) on delete cascade
);
-- newest-first cursor pagination of a channel's top-level messages, and of a thread's followups
create index messages_channel_page_idx on public.messages (channel_id, created_at desc, id desc) where parent_id is null;
create index messages_thread_idx on public.messages (parent_id, created_at, id) where parent_id is not null;
create index messages_team_id_idx on public.messages (team_id);

-- =========================================================================================================
-- Audit log
-- =========================================================================================================

/** Who did what, when, under which request. Written only through app.record_audit. */
create table public.audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  actor_id uuid,
  team_id uuid references public.teams (id) on delete set null,
  action text not null,
  target_type text not null,
  target_id text,
  request_id text,
  details jsonb not null default '{}'::jsonb
);
create index audit_log_team_time_idx on public.audit_log (team_id, occurred_at desc);

/** Appends an audit entry as the signed-in user; the actor comes from the JWT, not from the caller. */
create function app.record_audit(
  action text, target_type text, target_id text, team_id uuid, request_id text, details jsonb default '{}'::jsonb
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), team_id, action, target_type, target_id, request_id, coalesce(details, '{}'::jsonb))
$$;

-- =========================================================================================================
-- Transactional outbox
-- =========================================================================================================

/** Events written in the same transaction as the change they describe; workers/outbox-relay publishes them
    to NATS JetStream (message id = id, so the stream drops duplicates) and marks them processed. */
create table public.outbox_events (
  id uuid primary key default gen_random_uuid(),
  -- insertion order, for claiming batches oldest-first
  seq bigint generated always as identity unique,
  aggregate_type text not null,
  aggregate_id text not null,
  event_type text not null,
  event_version integer not null default 1,
  payload jsonb not null,
  correlation_id text,
  created_at timestamptz not null default now(),
  processed boolean not null default false,
  processed_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  next_attempt_at timestamptz,
  dead_lettered_at timestamptz
);
create index outbox_events_pending_idx on public.outbox_events (seq) where not processed and dead_lettered_at is null;
create index outbox_events_processed_at_idx on public.outbox_events (processed_at) where processed;
create index outbox_events_aggregate_idx on public.outbox_events (aggregate_type, aggregate_id, seq);

/** Enqueues an event in the caller's transaction. The gateway validates the payload against the event
    catalog first; this function only refuses what cannot be an event. */
create function app.enqueue_event(
  event_type text, aggregate_type text, aggregate_id text, payload jsonb, correlation_id text,
  event_version integer default 1
) returns uuid
language sql
security definer
set search_path = ''
as $$
  insert into public.outbox_events (event_type, aggregate_type, aggregate_id, payload, correlation_id, event_version)
  values (event_type, aggregate_type, aggregate_id, payload, correlation_id, event_version)
  returning id
$$;

-- =========================================================================================================
-- Row-level security
-- =========================================================================================================
alter table public.profiles enable row level security;
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.channels enable row level security;
alter table public.messages enable row level security;
alter table public.audit_log enable row level security;
alter table public.outbox_events enable row level security;

create policy "Users see their own profile and their teammates' profiles" on public.profiles
  for select to authenticated
  using (
    id = (select auth.uid())
    or id in (select user_id from public.team_members where team_id in (select app.current_user_team_ids()))
  );

create policy "Users update their own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

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

create policy "Team owners and admins read their team's audit log" on public.audit_log
  for select to authenticated
  using (app.has_team_role(team_id, array['owner', 'admin']::public.team_role[]));

-- outbox_events: RLS on and no policy for anon/authenticated on purpose; only app.enqueue_event writes and
-- only the relay (service_role or the table owner) reads.

-- =========================================================================================================
-- Privileges: nothing relies on Supabase's or PostgreSQL's defaults
-- =========================================================================================================
revoke all on public.profiles, public.teams, public.team_members, public.channels, public.messages,
  public.audit_log, public.outbox_events from public, anon, authenticated;

grant select, update (display_name) on public.profiles to authenticated;
grant select, insert, update (name) on public.teams to authenticated;
grant select, insert, update (role), delete on public.team_members to authenticated;
grant select, insert, update (name, topic, archived_at) on public.channels to authenticated;
grant select, insert, update (body, edited_at, deleted_at) on public.messages to authenticated;
grant select on public.audit_log to authenticated;

grant all on public.profiles, public.teams, public.team_members, public.channels, public.messages,
  public.audit_log, public.outbox_events to service_role;

revoke all on all functions in schema app from public;
grant execute on function app.current_user_team_ids(), app.has_team_role(uuid, public.team_role[]),
  app.record_audit(text, text, text, uuid, text, jsonb),
  app.enqueue_event(text, text, text, jsonb, text, integer) to authenticated, service_role;

-- Tenancy hardening: the database, not only the gateway, keeps users to their own teams and messages to their
-- rules, so a write that reaches Postgres some other way (a Data API left exposed, a handler bug) cannot
-- forge another team's events or audit entries, revive a deleted message or edit an archived channel.
-- Also: profiles no longer require an email (phone, anonymous and some OAuth sign-ups have none) and follow
-- email changes; dead letters get an index so status and metrics stop scanning the outbox.
--
-- Rolled back by supabase/rollbacks/20261127000400_tenancy_hardening.sql.

-- =========================================================================================================
-- Outbox events and audit entries only for the caller's own teams
-- =========================================================================================================

/** Enqueues an event in the caller's transaction. A signed-in caller may only enqueue events whose payload
    names one of their teams (team_id) or no team at all; the service role (workers) may enqueue anything.
    The gateway validates the payload against the event catalog first. */
create or replace function app.enqueue_event(
  event_type text, aggregate_type text, aggregate_id text, payload jsonb, correlation_id text,
  event_version integer default 1
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  event_id uuid;
begin
  if event_type !~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$' then
    raise exception 'event type % is not of the form aggregate.action', event_type using errcode = '22023';
  end if;
  if caller is not null and payload ? 'team_id'
     and not ((payload ->> 'team_id')::uuid in (select app.current_user_team_ids())) then
    raise exception 'an event can only be enqueued for one of the caller''s teams' using errcode = '42501';
  end if;
  insert into public.outbox_events (event_type, aggregate_type, aggregate_id, payload, correlation_id, event_version)
  values (event_type, aggregate_type, aggregate_id, payload, correlation_id, event_version)
  returning id into event_id;
  return event_id;
end
$$;

/** Appends an audit entry as the signed-in user; the actor comes from the JWT, and the team (if any) must
    be one of the caller's. */
create or replace function app.record_audit(
  action text, target_type text, target_id text, team_id uuid, request_id text, details jsonb default '{}'::jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if team_id is not null and (select auth.uid()) is not null
     and not (team_id in (select app.current_user_team_ids())) then
    raise exception 'an audit entry can only be recorded for one of the caller''s teams' using errcode = '42501';
  end if;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), team_id, action, target_type, target_id, request_id, coalesce(details, '{}'::jsonb));
end
$$;

-- =========================================================================================================
-- Messages: deleted ones stay deleted, archived channels stay read-only
-- =========================================================================================================

/** Refuses changes the update policy cannot express, because it only sees the new row: touching a deleted
    message (editing or undeleting it) and changing a message of an archived channel. */
create function app.guard_message_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.deleted_at is not null then
    raise exception 'message % is deleted and can no longer change', old.id using errcode = '42501';
  end if;
  if exists (select 1 from public.channels c where c.id = old.channel_id and c.archived_at is not null) then
    raise exception 'the channel of message % is archived and read-only', old.id using errcode = '42501';
  end if;
  return new;
end
$$;
create trigger messages_guard_update before update on public.messages
  for each row execute function app.guard_message_update();

-- =========================================================================================================
-- Profiles: email optional, kept in step with auth.users
-- =========================================================================================================
drop index public.profiles_email_key;
alter table public.profiles alter column email drop not null;
update public.profiles set email = null where email = '';
create unique index profiles_email_key on public.profiles (lower(email)) where email is not null;

/** Creates the profile of a new auth user; display name from metadata, else the email's local part. */
create or replace function app.create_profile_for_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, display_name)
  values (
    new.id,
    nullif(new.email, ''),
    left(coalesce(nullif(new.raw_user_meta_data ->> 'display_name', ''), nullif(split_part(coalesce(new.email, ''), '@', 1), ''), 'user'), 80)
  )
  on conflict (id) do nothing;
  return new;
end
$$;

/** Follows a changed sign-in email, so adding members by email finds the address the user now signs in with. */
create function app.sync_profile_email() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set email = nullif(new.email, '') where id = new.id;
  return new;
end
$$;
create trigger on_auth_user_email_changed after update of email on auth.users
  for each row when (old.email is distinct from new.email) execute function app.sync_profile_email();

-- =========================================================================================================
-- Outbox: dead letters by index
-- =========================================================================================================
create index outbox_events_dead_lettered_idx on public.outbox_events (dead_lettered_at) where dead_lettered_at is not null;

revoke all on function app.guard_message_update(), app.sync_profile_email() from public;

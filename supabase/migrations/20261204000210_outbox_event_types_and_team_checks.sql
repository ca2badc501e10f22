-- Outbox events and audit entries: closes the ways around the team checks of 20261127000400. A signed-in
-- caller could enqueue an event for any team, or for none, by leaving team_id out of the payload (or passing it
-- null or empty), and record audit entries without a team. Now every event and audit entry of a signed-in
-- caller names one of their teams (an audit action may be listed as having no team), and every event's type
-- must be one of the event catalog's: app.event_types holds exactly the types of
-- functions/_shared/events/catalog.ts (tests/schema/event-types.test.ts compares the two), for everyone,
-- workers included.
--
-- Rolled back by supabase/rollbacks/20261204000210_outbox_event_types_and_team_checks.sql.

-- =========================================================================================================
-- The event types the platform emits
-- =========================================================================================================

/** Every event type of the event catalog with its aggregate; app.enqueue_event refuses any other pair. A
    migration that adds events to the catalog adds one line per type:
      insert into app.event_types (event_type, aggregate_type) values ('payout.proposed', 'payout') on conflict do nothing; */
create table app.event_types (
  event_type text primary key check (event_type ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
  aggregate_type text not null check (aggregate_type ~ '^[a-z][a-z_]*$')
);
alter table app.event_types enable row level security;

insert into app.event_types (event_type, aggregate_type) values
  ('team.created', 'team'),
  ('team.member_added', 'team'),
  ('channel.created', 'channel'),
  ('channel.archived', 'channel'),
  ('message.created', 'message'),
  ('message.edited', 'message'),
  ('message.deleted', 'message')
on conflict do nothing;

-- =========================================================================================================
-- Audit actions that concern no team
-- =========================================================================================================

/** Audit actions about an account rather than a team, which a signed-in caller may record without a team.
    Empty: each action the gateway records (team.created, team.member_added, channel.created,
    channel.archived, message.edited, message.deleted) concerns a team the caller belongs to when it is
    recorded (team.created comes after the trigger that made the creator its owner). A migration that adds an
    account-level action (a profile change, say) lists it here with the reason. */
create table app.audit_actions_without_team (
  action text primary key check (action ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
  reason text not null check (reason <> '')
);
alter table app.audit_actions_without_team enable row level security;

-- =========================================================================================================
-- Who is calling
-- =========================================================================================================

/** Whether the current statement runs for an API caller (the gateway's role for a request) rather than for a
    worker or the database owner: the JWT names a subject, or the role was switched to authenticated or anon.
    The second test catches a switched role whose claims lack a subject, which must not pass as a worker.
    Read inside security-definer functions: the `role` setting still shows the caller's SET ROLE there. */
create function app.caller_is_api_client() returns boolean
language sql stable
set search_path = ''
as $$
  select (select auth.uid()) is not null or current_setting('role', true) in ('authenticated', 'anon')
$$;

-- =========================================================================================================
-- Outbox: catalog types only; a signed-in caller's event names one of their teams
-- =========================================================================================================

/** Enqueues an event in the caller's transaction. The type must be in app.event_types with its aggregate,
    for every caller. An API caller's payload must name one of their teams in team_id (missing, null, empty
    or not a uuid is refused); workers (service_role) enqueue events of any team or none. The gateway
    validates the payload against the event catalog first. */
create or replace function app.enqueue_event(
  event_type text, aggregate_type text, aggregate_id text, payload jsonb, correlation_id text,
  event_version integer default 1
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  catalog_aggregate text;
  team text := payload ->> 'team_id';
  event_id uuid;
begin
  select t.aggregate_type into catalog_aggregate from app.event_types t where t.event_type = enqueue_event.event_type;
  if catalog_aggregate is null then
    raise exception 'event type % is not in the event catalog (app.event_types)', enqueue_event.event_type
      using errcode = '22023',
        hint = 'declare it in functions/_shared/events/ and add it to app.event_types in a migration';
  end if;
  if catalog_aggregate <> enqueue_event.aggregate_type then
    raise exception 'event type % belongs to aggregate %, not %', enqueue_event.event_type, catalog_aggregate,
      enqueue_event.aggregate_type using errcode = '22023';
  end if;
  if app.caller_is_api_client() then
    if team is null or team !~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
      raise exception 'an event enqueued for a signed-in caller must name one of their teams in payload.team_id'
        using errcode = '42501';
    end if;
    if not (team::uuid in (select app.current_user_team_ids())) then
      raise exception 'an event can only be enqueued for one of the caller''s teams' using errcode = '42501';
    end if;
  end if;
  insert into public.outbox_events (event_type, aggregate_type, aggregate_id, payload, correlation_id, event_version)
  values (event_type, aggregate_type, aggregate_id, payload, correlation_id, event_version)
  returning id into event_id;
  return event_id;
end
$$;

-- =========================================================================================================
-- Audit log: a signed-in caller's entry names one of their teams
-- =========================================================================================================

/** Appends an audit entry; the actor comes from the JWT. An API caller's entry must name one of their teams,
    unless its action is listed in app.audit_actions_without_team; workers record entries of any team or none. */
create or replace function app.record_audit(
  action text, target_type text, target_id text, team_id uuid, request_id text, details jsonb default '{}'::jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if app.caller_is_api_client() then
    if record_audit.team_id is null then
      if not exists (select 1 from app.audit_actions_without_team a where a.action = record_audit.action) then
        raise exception 'audit action % needs the team it concerns; a signed-in caller records entries of their own teams only',
          record_audit.action using errcode = '42501';
      end if;
    elsif not (record_audit.team_id in (select app.current_user_team_ids())) then
      raise exception 'an audit entry can only be recorded for one of the caller''s teams' using errcode = '42501';
    end if;
  end if;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), team_id, action, target_type, target_id, request_id, coalesce(details, '{}'::jsonb));
end
$$;

-- =========================================================================================================
-- Privileges: the new tables and helper are read only inside the security-definer functions above
-- =========================================================================================================
revoke all on app.event_types, app.audit_actions_without_team from public, anon, authenticated;
grant select on app.event_types, app.audit_actions_without_team to service_role;
revoke all on function app.caller_is_api_client() from public, anon, authenticated;

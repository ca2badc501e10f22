-- Rollback of 20261204000210_outbox_event_types_and_team_checks.sql: app.enqueue_event and app.record_audit as
-- 20261127000400 defined them (any event type of the form aggregate.action; no team needed), without the event
-- type and audit action tables.

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

drop function if exists app.caller_is_api_client();
drop table if exists app.audit_actions_without_team;
drop table if exists app.event_types;

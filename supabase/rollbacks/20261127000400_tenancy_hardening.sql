-- Rollback of 20261127000400_tenancy_hardening.sql: the functions, triggers and indexes as 20261127000100
-- created them. Profiles without an email get '' back; with two or more of them the old unique index cannot
-- be rebuilt and this rollback fails (in its transaction, changing nothing) rather than invent addresses.

drop index if exists public.outbox_events_dead_lettered_idx;

drop trigger if exists on_auth_user_email_changed on auth.users;
drop function if exists app.sync_profile_email();

create or replace function app.create_profile_for_new_user() returns trigger
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

drop index public.profiles_email_key;
update public.profiles set email = '' where email is null;
alter table public.profiles alter column email set not null;
create unique index profiles_email_key on public.profiles (lower(email));

drop trigger if exists messages_guard_update on public.messages;
drop function if exists app.guard_message_update();

create or replace function app.record_audit(
  action text, target_type text, target_id text, team_id uuid, request_id text, details jsonb default '{}'::jsonb
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), team_id, action, target_type, target_id, request_id, coalesce(details, '{}'::jsonb))
$$;

create or replace function app.enqueue_event(
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

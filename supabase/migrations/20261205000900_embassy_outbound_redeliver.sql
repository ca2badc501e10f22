-- Embassy outbound webhooks: the manual redeliver of a dead-lettered delivery, by a platform admin, audited.
-- The admin console (web/admin) calls it through POST /api/admin/embassy/outbound/{id}/redeliver; the Embassy
-- consumer's sender then makes one more attempt (workers/consumers/embassy/outbound-sender.ts).
-- Also fixes embassies.endpoint_url's check, which no URL could pass: `{1,500}` is beyond the 255 repetitions
-- Postgres regular expressions allow, so setting any endpoint raised "invalid repetition count(s)".
--
-- Rolled back by supabase/rollbacks/20261205000900_embassy_outbound_redeliver.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.embassies drop constraint if exists embassies_endpoint_url_check;
alter table public.embassies add constraint embassies_endpoint_url_check
  check (endpoint_url ~ '^https?://[^\s]+$' and char_length(endpoint_url) <= 500);

insert into app.audit_actions_without_team (action, reason) values
  ('embassy.outbound_redelivered', 'an outbound webhook belongs to a partner, not a team; the platform admin who redelivered it is the actor')
on conflict do nothing;

/** Makes a dead outbound delivery pending again, due now, and audits who did it. Returns the status the
    delivery had: 'dead' when it was redelivered, anything else (or null: no such delivery) when nothing changed. */
create or replace function app.redeliver_embassy_outbound(delivery_id uuid, request_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  found public.embassy_outbound_deliveries;
begin
  if not app.is_platform_admin() then
    raise exception 'redelivering an outbound webhook needs the platform.admin capability' using errcode = '42501';
  end if;
  select * into found from public.embassy_outbound_deliveries d where d.id = delivery_id for update;
  if found.id is null or found.status <> 'dead' then
    return found.status;
  end if;
  update public.embassy_outbound_deliveries d set status = 'pending', next_attempt_at = now() where d.id = delivery_id;
  perform app.record_audit('embassy.outbound_redelivered', 'embassy_outbound_delivery', delivery_id::text, null, request_id,
    jsonb_build_object('partner', found.partner, 'event_id', found.event_id, 'event_type', found.event_type,
      'attempts', found.attempts, 'last_response_code', found.last_response_code, 'last_error', found.last_error));
  return 'dead';
end
$$;
revoke all on function app.redeliver_embassy_outbound(uuid, text) from public, anon;
grant execute on function app.redeliver_embassy_outbound(uuid, text) to authenticated;

-- Rolls back supabase/migrations/20261205000900_embassy_outbound_redeliver.sql: no manual redeliver.
drop function if exists app.redeliver_embassy_outbound(uuid, text);
delete from app.audit_actions_without_team where action = 'embassy.outbound_redelivered';
alter table public.embassies drop constraint if exists embassies_endpoint_url_check;
update public.embassies set endpoint_url = null;
alter table public.embassies add constraint embassies_endpoint_url_check check (endpoint_url ~ '^https?://[^\s]{1,500}$');

-- Rollback of 20261205000300_embassy_and_rwa.sql: the Embassy and RWA tables, their guards, capabilities and
-- event types gone.

drop table if exists public.rwa_movements;
drop table if exists public.rwa_inventory;
drop table if exists public.embassy_outbound_deliveries;
drop table if exists public.embassy_webhook_deliveries;
drop table if exists public.embassy_team_links;
drop table if exists public.embassies;

drop function if exists app.refuse_rwa_movement_change();
drop function if exists app.guard_rwa_inventory();
drop function if exists app.guard_embassy_outbound_delivery();
drop function if exists app.guard_embassy_webhook_delivery();

delete from app.event_types where event_type in ('embassy.webhook_received', 'embassy.partner_linked', 'rwa.inventory_changed');
delete from public.bundle_capabilities where capability in ('embassy.manage', 'rwa.read');
delete from public.capabilities where name in ('embassy.manage', 'rwa.read');

-- Embassy and RWA rules held by the database: the inventory is readable per team through rwa.read, partner links
-- only by embassy.manage holders, deliveries invisible to API callers, inventory versions bump by exactly one,
-- quantities never go negative, a delivery moves the inventory at most once, movements are append-only, and
-- the delivery state machines refuse going back.
begin;
\ir helpers/authenticate.sql
select plan(16);

-- Arrange, as the superuser: team A (Alice owner, Bob member), team B (Carol owner).
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member');
insert into public.embassy_webhook_deliveries (id, partner, webhook_id, event_type, team_id, payload, signature_outcome, status, answer_status, answer_body) values
  ('dddddddd-0000-4000-8000-000000000001', 'energy-union', 'msg_1', 'energy.produced', 'aaaaaaaa-0000-4000-8000-000000000000', '{}', 'verified', 'accepted', 202, '{}'),
  ('dddddddd-0000-4000-8000-000000000002', 'energy-union', 'msg_2', 'energy.teleported', null, '{}', 'verified', 'unknown_type', 422, '{}');
insert into public.rwa_inventory (id, team_id, partner, asset_kind, asset_ref, unit, quantity) values
  ('eeeeeeee-0000-4000-8000-00000000000a', 'aaaaaaaa-0000-4000-8000-000000000000', 'energy-union', 'energy', 'meter-1', 'kWh', 10.5),
  ('eeeeeeee-0000-4000-8000-00000000000b', 'bbbbbbbb-0000-4000-8000-000000000000', 'water-union', 'water', 'right-9', 'm3', 3);
insert into public.rwa_movements (inventory_id, team_id, delivery_id, kind, delta, quantity_after, version_after, occurred_at) values
  ('eeeeeeee-0000-4000-8000-00000000000a', 'aaaaaaaa-0000-4000-8000-000000000000', 'dddddddd-0000-4000-8000-000000000001', 'produced', 10.5, 10.5, 1, now());

-- ---------------------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select results_eq($$select asset_ref from public.rwa_inventory$$, array['meter-1'],
  'a member reads their own team''s inventory, not another team''s');
select results_eq($$select count(*)::int from public.rwa_movements$$, array[1], 'and its history');
select throws_ok($$select 1 from public.embassy_webhook_deliveries$$, '42501', null, 'inbound deliveries are closed to API callers');
select results_eq($$select count(*)::int from public.embassies$$, array[4], 'the partner catalog is visible to every signed-in principal');
select throws_ok(
  $$insert into public.embassy_team_links (partner, team_id, linked_by) values ('energy-union', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002')$$,
  '42501', null, 'a member without embassy.manage cannot link a partner');
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select lives_ok(
  $$insert into public.embassy_team_links (partner, team_id, linked_by) values ('energy-union', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001')$$,
  'an owner (embassy.manage) links a partner to their team');
select throws_ok(
  $$insert into public.embassy_team_links (partner, team_id, linked_by) values ('energy-union', 'bbbbbbbb-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001')$$,
  '42501', null, 'but not to another team');
select throws_ok($$update public.rwa_inventory set quantity = 99, version = version + 1$$, '42501', null,
  'the inventory is changed only by the Embassy consumer, never through the API role');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- Versions, quantities, exactly-once movements
-- ---------------------------------------------------------------------------------------------------------
select throws_ok(
  $$update public.rwa_inventory set quantity = 11 where id = 'eeeeeeee-0000-4000-8000-00000000000a'$$,
  '40001', null, 'an update that does not bump the version is refused');
select lives_ok(
  $$update public.rwa_inventory set quantity = 11, version = 2 where id = 'eeeeeeee-0000-4000-8000-00000000000a' and version = 1$$,
  'an update from the version it read bumps it by one');
select throws_ok(
  $$update public.rwa_inventory set quantity = -1, version = 3 where id = 'eeeeeeee-0000-4000-8000-00000000000a'$$,
  '23514', null, 'a quantity never goes negative');
select throws_ok(
  $$insert into public.rwa_movements (inventory_id, team_id, delivery_id, kind, delta, quantity_after, version_after, occurred_at)
    values ('eeeeeeee-0000-4000-8000-00000000000a', 'aaaaaaaa-0000-4000-8000-000000000000', 'dddddddd-0000-4000-8000-000000000001', 'produced', 1, 12, 3, now())$$,
  '23505', null, 'a delivery moves the inventory at most once');
select throws_ok($$delete from public.rwa_movements$$, '42501', null, 'movements are append-only');

-- ---------------------------------------------------------------------------------------------------------
-- Delivery state machines
-- ---------------------------------------------------------------------------------------------------------
update public.embassy_webhook_deliveries set processed_at = now(), result = 'applied' where id = 'dddddddd-0000-4000-8000-000000000001';
select throws_ok(
  $$update public.embassy_webhook_deliveries set processed_at = now(), result = 'no_effect' where id = 'dddddddd-0000-4000-8000-000000000001'$$,
  '55000', null, 'an inbound delivery is processed once');
select throws_ok(
  $$update public.embassy_webhook_deliveries set processed_at = now(), result = 'applied' where id = 'dddddddd-0000-4000-8000-000000000002'$$,
  '55000', null, 'a webhook of an unknown type is never applied');
insert into public.embassy_outbound_deliveries (id, partner, event_id, event_type, payload, status, delivered_at)
  values ('ffffffff-0000-4000-8000-000000000001', 'greenfood', gen_random_uuid(), 'rwa.inventory_changed', '{}', 'delivered', now());
select throws_ok(
  $$update public.embassy_outbound_deliveries set status = 'pending', delivered_at = null where id = 'ffffffff-0000-4000-8000-000000000001'$$,
  '55000', null, 'a delivered outbound webhook stays delivered');

select * from finish();
rollback;

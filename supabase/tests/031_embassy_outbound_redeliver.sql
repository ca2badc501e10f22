-- Embassy outbound redeliver (20261205000900): only a platform admin makes a dead outbound delivery pending
-- again, through app.redeliver_embassy_outbound, with one audit entry naming the admin; a delivery that is not
-- dead is left as it is; members see no outbound delivery; the endpoint_url check accepts a URL and refuses junk.
begin;
\ir helpers/authenticate.sql
select plan(9);

insert into auth.users (id, email) values
  ('e0000000-0000-4000-8000-000000000001', 'root@embassy.test'),
  ('e0000000-0000-4000-8000-000000000002', 'member@embassy.test');

/** Signs in as a platform admin (app_metadata.platform_admin, which only the auth service sets). */
create function tests.authenticate_as_platform_admin(user_id uuid) returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', user_id, 'role', 'authenticated', 'aud', 'authenticated',
    'app_metadata', json_build_object('platform_admin', true))::text, true);
  set local role authenticated;
end
$$;
insert into public.embassy_outbound_deliveries (id, partner, event_id, event_type, payload, status, attempts, last_response_code) values
  ('e1000000-0000-4000-8000-000000000001', 'greenfood', 'e2000000-0000-4000-8000-000000000001', 'rwa.inventory_changed', '{}', 'dead', 8, 503),
  ('e1000000-0000-4000-8000-000000000002', 'greenfood', 'e2000000-0000-4000-8000-000000000002', 'rwa.inventory_changed', '{}', 'pending', 1, 503);

select lives_ok($$update public.embassies set endpoint_url = 'https://partner.example/webhooks' where partner = 'greenfood'$$,
  'an https endpoint_url is accepted (the first version of the check refused every URL)');
select throws_ok($$update public.embassies set endpoint_url = 'ftp://partner.example' where partner = 'greenfood'$$,
  '23514', null, 'a URL that is not http(s) is refused');

select tests.authenticate_as('e0000000-0000-4000-8000-000000000002');
select throws_ok($$select app.redeliver_embassy_outbound('e1000000-0000-4000-8000-000000000001', 'req-1')$$,
  '42501', 'redelivering an outbound webhook needs the platform.admin capability', 'a person who is not a platform admin cannot redeliver');
select throws_ok($$select * from public.embassy_outbound_deliveries$$, '42501', null, 'nor read the outbound deliveries');

reset role;
select tests.authenticate_as_platform_admin('e0000000-0000-4000-8000-000000000001');
select is(app.redeliver_embassy_outbound('e1000000-0000-4000-8000-000000000001', 'req-2'), 'dead', 'a platform admin redelivers a dead delivery');
select is(app.redeliver_embassy_outbound('e1000000-0000-4000-8000-000000000002', 'req-3'), 'pending', 'a pending one is left as it is');
select is(app.redeliver_embassy_outbound('e1000000-0000-4000-8000-00000000ffff', 'req-4'), null, 'an unknown id changes nothing');
reset role;

select results_eq(
  $$select status, attempts from public.embassy_outbound_deliveries order by id$$,
  $$values ('pending', 8), ('pending', 1)$$,
  'the dead delivery is pending again with its attempts kept; the other unchanged');
select results_eq(
  $$select actor_id, target_id, request_id from public.audit_log where action = 'embassy.outbound_redelivered'$$,
  $$values ('e0000000-0000-4000-8000-000000000001'::uuid, 'e1000000-0000-4000-8000-000000000001', 'req-2')$$,
  'one audit entry, naming the admin and the delivery');

select * from finish();
rollback;

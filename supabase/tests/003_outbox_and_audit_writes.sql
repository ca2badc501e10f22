-- Outbox events and audit entries cannot be read or forged by a signed-in user directly: they are written
-- through app.enqueue_event / app.record_audit, which take the actor from the JWT.
begin;
\ir helpers/authenticate.sql
select plan(7);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001');

select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select throws_ok($$select 1 from public.outbox_events$$, '42501', null, 'a signed-in user cannot read the outbox');
select throws_ok(
  $$insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload) values ('x', 'y', 'forged', '{}')$$,
  '42501', null, 'a signed-in user cannot insert outbox rows directly');
select throws_ok(
  $$insert into public.audit_log (action, target_type) values ('forged', 'x')$$,
  '42501', null, 'a signed-in user cannot insert audit rows directly');
select lives_ok(
  $$select app.enqueue_event('message.created', 'message', 'm-1', '{"k": 1}', 'req-123')$$,
  'the gateway''s role enqueues an event through app.enqueue_event');
select lives_ok(
  $$select app.record_audit('team.renamed', 'team', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'req-123')$$,
  'the gateway''s role records an audit entry through app.record_audit');

select tests.clear_authentication();
select is(
  (select correlation_id from public.outbox_events where event_type = 'message.created'),
  'req-123', 'the enqueued event carries the correlation id');
select is(
  (select actor_id from public.audit_log where action = 'team.renamed'),
  'b0000000-0000-4000-8000-000000000003'::uuid, 'the audit entry''s actor comes from the JWT');

select * from finish();
rollback;

-- Outbox events and audit entries cannot be read or forged by a signed-in user: they are written only
-- through app.enqueue_event / app.record_audit, which take the actor from the JWT and accept only the
-- caller's own teams.
begin;
\ir helpers/authenticate.sql
select plan(12);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');

-- Carol, a member of team B only.
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select throws_ok($$select 1 from public.outbox_events$$, '42501', null, 'a signed-in user cannot read the outbox');
select throws_ok(
  $$insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload) values ('x', 'y', 'forged', '{}')$$,
  '42501', null, 'a signed-in user cannot insert outbox rows directly');
select throws_ok(
  $$insert into public.audit_log (action, target_type) values ('forged', 'x')$$,
  '42501', null, 'a signed-in user cannot insert audit rows directly');
select lives_ok(
  $$select app.enqueue_event('message.created', 'message', 'm-1', '{"team_id": "bbbbbbbb-0000-4000-8000-000000000000"}', 'req-123')$$,
  'the gateway''s role enqueues an event about its own team through app.enqueue_event');
select throws_ok(
  $$select app.enqueue_event('message.created', 'message', 'm-2', '{"team_id": "aaaaaaaa-0000-4000-8000-000000000000"}', 'req-124')$$,
  '42501', null, 'nobody enqueues an event about a team they are not in');
select throws_ok(
  $$select app.enqueue_event('not an event', 'message', 'm-3', '{}', 'req-125')$$,
  '22023', null, 'an event type outside the event catalog is refused');
select lives_ok(
  $$select app.record_audit('team.renamed', 'team', 'bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'req-123')$$,
  'the gateway''s role records an audit entry for its own team through app.record_audit');
select throws_ok(
  $$select app.record_audit('team.renamed', 'team', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'req-124')$$,
  '42501', null, 'nobody writes into the audit log of a team they are not in');

select tests.clear_authentication();
select is(
  (select correlation_id from public.outbox_events where event_type = 'message.created'),
  'req-123', 'the enqueued event carries the correlation id');
select is(
  (select actor_id from public.audit_log where action = 'team.renamed'),
  'b0000000-0000-4000-8000-000000000003'::uuid, 'the audit entry''s actor comes from the JWT');
select is((select count(*)::int from public.outbox_events where aggregate_id in ('m-2', 'm-3')), 0, 'the refused events left no row');
select is((select count(*)::int from public.audit_log where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 0,
  'the refused audit entry left no row');

select * from finish();
rollback;

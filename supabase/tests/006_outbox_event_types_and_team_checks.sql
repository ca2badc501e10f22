-- No way around the team checks of app.enqueue_event / app.record_audit: a signed-in caller's event and audit
-- entry name one of their teams, whatever the payload leaves out, and only the event catalog's types (with
-- their aggregates) enter the outbox, for workers too. Workers (service_role) still enqueue every catalog type
-- without a team and record entries without one.
begin;
\ir helpers/authenticate.sql
select plan(22);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'b0000000-0000-4000-8000-000000000003'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
-- Carol founded both teams and then left team A: a member of team B only.
delete from public.team_members where team_id = 'aaaaaaaa-0000-4000-8000-000000000000';

-- ---------------------------------------------------------------------------------------------------------
-- A signed-in caller (Carol)
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');

select lives_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-1', '{"team_id": "bbbbbbbb-0000-4000-8000-000000000000"}', 'req-1')$$,
  'a signed-in caller enqueues a catalog event about their own team');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-2', '{"channel_id": "c-2"}', 'req-2')$$,
  '42501', 'an event enqueued for a signed-in caller must name one of their teams in payload.team_id',
  'an event without team_id is refused for a signed-in caller');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-3', '{"team_id": null}', 'req-3')$$,
  '42501', null, 'an event whose team_id is null is refused');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-4', '{"team_id": ""}', 'req-4')$$,
  '42501', null, 'an event whose team_id is empty is refused');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-5', '{"team_id": "not-a-team"}', 'req-5')$$,
  '42501', null, 'an event whose team_id is not a uuid is refused (not a cast error)');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-6', '["bbbbbbbb-0000-4000-8000-000000000000"]', 'req-6')$$,
  '42501', null, 'a payload that is not an object names no team and is refused');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-7', '{"team_id": "aaaaaaaa-0000-4000-8000-000000000000"}', 'req-7')$$,
  '42501', 'an event can only be enqueued for one of the caller''s teams',
  'an event about a team the caller left is refused');
select throws_ok(
  $$select app.enqueue_event('ghost.appeared', 'ghost', 'g-1', '{"team_id": "bbbbbbbb-0000-4000-8000-000000000000"}', 'req-8')$$,
  '22023', 'event type ghost.appeared is not in the event catalog (app.event_types)',
  'an event type outside the catalog is refused, even about the caller''s own team');
select throws_ok(
  $$select app.enqueue_event('channel.created', 'message', 'c-9', '{"team_id": "bbbbbbbb-0000-4000-8000-000000000000"}', 'req-9')$$,
  '22023', 'event type channel.created belongs to aggregate channel, not message',
  'a catalog type under another aggregate is refused');

select lives_ok(
  $$select app.record_audit('channel.created', 'channel', 'c-1', 'bbbbbbbb-0000-4000-8000-000000000000', 'req-1')$$,
  'a signed-in caller records an audit entry of their own team');
select throws_ok(
  $$select app.record_audit('channel.created', 'channel', 'c-10', null, 'req-10')$$,
  '42501', 'audit action channel.created needs the team it concerns; a signed-in caller records entries of their own teams only',
  'an audit entry without a team is refused for a signed-in caller');
select throws_ok(
  $$select app.record_audit('channel.created', 'channel', 'c-11', 'aaaaaaaa-0000-4000-8000-000000000000', 'req-11')$$,
  '42501', null, 'an audit entry of a team the caller left is refused');

-- an action listed as concerning no team (none is today; a later migration may list one)
select tests.clear_authentication();
insert into app.audit_actions_without_team (action, reason) values ('profile.renamed', 'a profile belongs to no team');
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select lives_ok(
  $$select app.record_audit('profile.renamed', 'profile', 'b0000000-0000-4000-8000-000000000003', null, 'req-12')$$,
  'an action listed in app.audit_actions_without_team is recorded without a team');

-- ---------------------------------------------------------------------------------------------------------
-- The gateway's role with claims that name no user: still an API caller, not a worker
-- ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select set_config('request.jwt.claims', '{"role": "authenticated"}', true);
set local role authenticated;
select throws_ok(
  $$select app.enqueue_event('channel.created', 'channel', 'c-13', '{"channel_id": "c-13"}', 'req-13')$$,
  '42501', null, 'the authenticated role without a user id cannot enqueue an event without a team');
select throws_ok(
  $$select app.record_audit('channel.created', 'channel', 'c-14', null, 'req-14')$$,
  '42501', null, 'nor record an audit entry without a team');

-- ---------------------------------------------------------------------------------------------------------
-- Workers (service_role)
-- ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select set_config('request.jwt.claims', '{"role": "service_role"}', true);
set local role service_role;
select is(
  (select count(app.enqueue_event(t.event_type, t.aggregate_type, 'w-' || t.event_type, '{}', 'worker'))::int from app.event_types t),
  (select count(*)::int from app.event_types),
  'the service role enqueues every type of the catalog, without a team');
select lives_ok(
  $$select app.enqueue_event('message.created', 'message', 'w-any', '{"team_id": "aaaaaaaa-0000-4000-8000-000000000000"}', 'worker')$$,
  'the service role enqueues an event about any team');
select throws_ok(
  $$select app.enqueue_event('ghost.appeared', 'ghost', 'w-ghost', '{}', 'worker')$$,
  '22023', null, 'the service role too enqueues catalog types only');
select lives_ok(
  $$select app.record_audit('outbox.requeued', 'outbox_event', 'e-1', null, 'worker')$$,
  'the service role records an audit entry without a team');

-- ---------------------------------------------------------------------------------------------------------
-- What was written
-- ---------------------------------------------------------------------------------------------------------
reset role; -- service_role cannot reach the tests schema's helpers
select is(
  (select count(*)::int from public.outbox_events where correlation_id like 'req-%'), 1,
  'of the signed-in caller''s events only the one about their own team was written');
select is(
  (select array_agg(request_id order by request_id) from public.audit_log where request_id like 'req-%'),
  array['req-1', 'req-12'],
  'of the signed-in caller''s audit entries only the one of their team and the team-less action were written');
select is(
  (select count(*)::int from public.outbox_events where correlation_id = 'worker'),
  (select count(*)::int + 1 from app.event_types),
  'the service role''s events were all written, none of another type');

select * from finish();
rollback;

-- Agents and runs in the database: the run lifecycle is enforced by SQL (illegal transitions refused whoever
-- asks), every transition writes one outbox event, a lease keeps a run on one worker at a time, the team limit
-- holds, expired runs are marked, a mention starts a run, and agents and runs are invisible across teams.
begin;
\ir helpers/authenticate.sql
select plan(32);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member');
insert into public.channels (id, team_id, name, created_by) values
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a-general', 'a0000000-0000-4000-8000-000000000001');

-- ---------------------------------------------------------------------------------------------------------
-- Registering: agent.manage (owner/admin), not a member
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select throws_ok($$select app.register_agent('aaaaaaaa-0000-4000-8000-000000000000', 'sneaky', 'summarizer', '{}', 'agent', 60, 'c')$$,
  '42501', null, 'a member cannot register an agent');
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select app.register_agent('aaaaaaaa-0000-4000-8000-000000000000', 'summarizer', 'summarizer', '{}', 'agent', 60, 'corr-reg') as agent \gset
select ok(:'agent'::uuid is not null, 'the owner registers an agent');
select throws_ok($$select app.register_agent('aaaaaaaa-0000-4000-8000-000000000000', 'summarizer', 'summarizer', '{}', 'agent', 60, 'c')$$,
  '23505', null, 'a second agent of the same name is refused');
select throws_ok($$select app.register_agent('aaaaaaaa-0000-4000-8000-000000000000', 'rooted', 'summarizer', '{}', 'owner', 60, 'c')$$,
  '22023', null, 'an agent cannot act with a role bundle');

-- ---------------------------------------------------------------------------------------------------------
-- Starting a run: agent.run; one outbox event
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select app.start_agent_run(:'agent', 'aaaaaaaa-c000-4000-8000-000000000000', '{"limit": 5}', 'corr-run') as run \gset
select is((select status::text from public.agent_runs where id = :'run'), 'queued', 'a member starts a run; it is queued');
select tests.clear_authentication();
select is((select count(*)::int from public.outbox_events where aggregate_id = :'run' and event_type = 'agent_run.queued'
  and correlation_id = 'corr-run'), 1, 'the queued run has its outbox event with the request''s correlation id');

-- ---------------------------------------------------------------------------------------------------------
-- Illegal transitions, refused by the database whoever asks (here the superuser)
-- ---------------------------------------------------------------------------------------------------------
select throws_ok(format($$update public.agent_runs set status = 'completed', finished_at = now() where id = %L$$, :'run'),
  '23514', null, 'queued → completed is refused');
select throws_ok(format($$update public.agent_runs set status = 'requires_action', pending_action = '{}' where id = %L$$, :'run'),
  '23514', null, 'queued → requires_action is refused');
select throws_ok($$insert into public.agent_runs (team_id, agent_id, status, started_by, expires_at, started_at)
  select team_id, id, 'in_progress', 'a0000000-0000-4000-8000-000000000001', now() + interval '1 minute', now() from public.agents limit 1$$,
  '23514', null, 'a run cannot be inserted in progress');

-- ---------------------------------------------------------------------------------------------------------
-- The orchestrator: claim with a lease, one worker at a time; steps; requires_action ↔ in_progress; settle
-- ---------------------------------------------------------------------------------------------------------
set local role service_role;
select is(app.claim_agent_run(:'run', 'worker-1', 30, 2, 3), 'claimed', 'a worker claims the queued run');
select is(app.claim_agent_run(:'run', 'worker-2', 30, 2, 3), 'leased', 'a second worker cannot claim it while the lease lives');
select is((select status::text from public.agent_runs where id = :'run'), 'in_progress', 'the run is in progress');
select ok(app.record_agent_run_step(:'run', 'worker-1', 'read_messages', 'succeeded', '{"messages": 3}') is not null,
  'the holder records a step');
select ok(app.record_agent_run_step(:'run', 'worker-2', 'note', 'succeeded', '{}') is null, 'another worker cannot');
select ok(app.renew_agent_run_lease(:'run', 'worker-2', 30) is null, 'nor renew the lease');
select ok(app.settle_agent_run(:'run', 'worker-1', 'requires_action', null, null, null, '{"tool": "post_reply"}'),
  'the holder asks for approval of an action');
select is(app.claim_agent_run(:'run', 'worker-2', 30, 2, 3), 'waiting', 'a run awaiting approval is not claimed');
reset role;

select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select throws_ok(format($$select app.resolve_agent_run_action(%L, true, null)$$, :'run'), 'P0002', null,
  'another team''s user cannot even see the run to approve it');
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select ok(app.resolve_agent_run_action(:'run', true, 'fine'), 'the starter approves the action');
select tests.clear_authentication();
set local role service_role;
select is(app.claim_agent_run(:'run', 'worker-2', 30, 2, 3), 'claimed', 'after approval a worker (any) claims it again');
select ok(app.settle_agent_run(:'run', 'worker-2', 'completed', '{"reply": "done"}', null, '{"messages": 3}'),
  'and completes it');
select ok(not app.settle_agent_run(:'run', 'worker-1', 'failed', null, '{"code": "x", "message": "y"}', null),
  'the earlier worker cannot settle it any more');
reset role;
select is((select array_agg(event_type order by seq) from public.outbox_events where aggregate_id = :'run'),
  array['agent_run.queued', 'agent_run.in_progress', 'agent_run.requires_action', 'agent_run.in_progress',
        'agent_run.completed']::text[], 'one outbox event per transition, in order');
select throws_ok(format($$update public.agent_runs set status = 'in_progress', finished_at = null where id = %L$$, :'run'),
  '23514', null, 'a completed run never moves again');

-- ---------------------------------------------------------------------------------------------------------
-- Team limit, attempts, expiry, cancel
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select app.start_agent_run(:'agent', null, '{}', 'c1') as r1 \gset
select app.start_agent_run(:'agent', null, '{}', 'c2') as r2 \gset
select tests.clear_authentication();
set local role service_role;
select is(array[app.claim_agent_run(:'r1', 'w1', 30, 1, 3), app.claim_agent_run(:'r2', 'w2', 30, 1, 3)],
  array['claimed', 'busy'], 'with a team limit of 1 the second run waits');
reset role;
update public.agent_runs set lease_expires_at = now() - interval '1 second', attempts = 3 where id = :'r1';
set local role service_role;
select is(app.claim_agent_run(:'r1', 'w3', 30, 1, 3), 'exhausted', 'a run whose workers died three times fails');
reset role;
select is((select error ->> 'code' from public.agent_runs where id = :'r1'), 'worker_lost', 'with a reason');
update public.agent_runs set expires_at = now() - interval '1 second' where id = :'r2';
set local role service_role;
select is(app.expire_agent_runs(100), 1, 'a run past its deadline is expired by the sweeper');
reset role;

select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select app.start_agent_run(:'agent', null, '{}', 'c3') as r3 \gset
select ok(app.cancel_agent_run(:'r3'), 'the starter cancels a queued run');
select ok(not app.cancel_agent_run(:'r3'), 'cancelling it again changes nothing');

-- ---------------------------------------------------------------------------------------------------------
-- A mention starts a run; other teams see nothing
-- ---------------------------------------------------------------------------------------------------------
insert into public.messages (id, channel_id, team_id, author_id, body) values
  ('aaaaaaaa-e000-4000-8000-000000000001', 'aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000',
   'a0000000-0000-4000-8000-000000000002', 'hey @summarizer what happened? (mail bob@summarizer.test is no mention)');
select app.enqueue_event('message.created', 'message', 'aaaaaaaa-e000-4000-8000-000000000001',
  jsonb_build_object('message_id', 'aaaaaaaa-e000-4000-8000-000000000001', 'team_id', 'aaaaaaaa-0000-4000-8000-000000000000'),
  'corr-mention', 1);
select is((select count(*)::int from public.agent_runs where trigger_message_id = 'aaaaaaaa-e000-4000-8000-000000000001'
  and correlation_id = 'corr-mention' and channel_id = 'aaaaaaaa-c000-4000-8000-000000000000'), 1,
  'mentioning @summarizer starts one run in that channel, with the message''s correlation id');

select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select is((select count(*)::int from public.agents) + (select count(*)::int from public.agent_runs)
  + (select count(*)::int from public.agent_run_steps), 0, 'another team sees no agent, run or step of team A');
select tests.clear_authentication();

select * from finish();
rollback;

-- Governance in the database itself: proposals snapshot their team's settings, one vote per member
-- (changeable until close), votes refused after close, the tally at the edges (exactly at quorum, a tie),
-- the state machine (API callers only cancel; the scheduler's step closes, executes, queues, expires — once),
-- isolation between teams, and an event for every step.
begin;
\ir helpers/authenticate.sql
select plan(33);

-- Arrange, as the superuser: team A (Alice owner; Bob, Dan, Eve members: four eligible voters); team B (Carol).
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('a0000000-0000-4000-8000-000000000004', 'dan@a.test'),
  ('a0000000-0000-4000-8000-000000000005', 'eve@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 'member'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000005', 'member');

select is((select quorum_percent from public.governance_settings where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 50.00,
  'a new team gets governance settings (quorum 50 %)');

/** Makes a proposal as `author` and returns its id (the database picks ids, windows and thresholds). */
create function tests.propose(author uuid, kind public.proposal_kind, title text, action jsonb default '{}') returns uuid
language plpgsql
as $$
declare
  made uuid;
begin
  perform tests.authenticate_as(author);
  insert into public.proposals (team_id, kind, title, action, created_by)
  values ('aaaaaaaa-0000-4000-8000-000000000000', kind, title, action, author) returning id into made;
  perform tests.clear_authentication();
  return made;
end
$$;

/** Casts (or changes) a vote as `voter`. */
create function tests.vote(voter uuid, proposal uuid, choice public.vote_choice) returns void
language plpgsql
as $$
begin
  perform tests.authenticate_as(voter);
  insert into public.votes (proposal_id, team_id, voter_id, choice)
  values (proposal, 'aaaaaaaa-0000-4000-8000-000000000000', voter, choice)
  on conflict (proposal_id, voter_id) do update set choice = excluded.choice;
  perform tests.clear_authentication();
end
$$;

/** The scheduler's step, `days` from now; returns how many steps it took. */
create function tests.tick(days integer) returns integer
language sql
as $$ select count(*)::integer from app.governance_tick(100, now() + make_interval(days => days)) $$;

-- ---------------------------------------------------------------------------------------------------------
-- A tie, exactly at quorum: two of four vote, one for and one against
-- ---------------------------------------------------------------------------------------------------------
select tests.propose('a0000000-0000-4000-8000-000000000002', 'signal', 'Paint the hall green') as tie \gset
select results_eq(format($$select state::text, eligible_voters, quorum_percent from public.proposals where id = %L$$, :'tie'),
  $$values ('active', 4, 50.00::numeric(5,2))$$,
  'a proposal opens at once (no voting delay) with the electorate and quorum of its team at that moment');

select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select lives_ok(format($$insert into public.votes (proposal_id, team_id, voter_id, choice)
  values (%L, 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'for')$$, :'tie'), 'Bob votes for');
select throws_ok(format($$insert into public.votes (proposal_id, team_id, voter_id, choice)
  values (%L, 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'for')$$, :'tie'),
  '23505', null, 'a second vote of the same member is impossible');
select throws_ok(format($$insert into public.votes (proposal_id, team_id, voter_id, choice)
  values (%L, 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'for')$$, :'tie'),
  '42501', null, 'nobody votes in another member''s name');
select is(tests.rows_affected(format($$update public.votes set choice = 'against' where proposal_id = %L$$, :'tie')), 1,
  'Bob changes his vote while voting is open (his own row only)');
select throws_ok(format($$update public.proposals set state = 'succeeded' where id = %L$$, :'tie'),
  '42501', null, 'a member cannot declare a proposal succeeded');
select tests.clear_authentication();
select tests.vote('a0000000-0000-4000-8000-000000000004', :'tie', 'for');

select tests.authenticate_as('a0000000-0000-4000-8000-000000000005');
select results_eq(format($$select for_votes, against_votes, abstain_votes, quorum_reached, threshold_reached
  from public.proposal_tallies where proposal_id = %L$$, :'tie'),
  $$values (1, 1, 0, true, false)$$,
  'anyone in the team re-runs the tally: exactly at quorum (2 of 4 = 50 %), and a tie does not pass');
select tests.clear_authentication();

select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select is((select count(*)::int from public.proposals), 0, 'another team sees none of team A''s proposals');
select is((select count(*)::int from public.votes), 0, 'nor its votes');
select is((select count(*)::int from public.proposal_tallies), 0, 'nor its tallies');
select throws_ok(format($$insert into public.votes (proposal_id, team_id, voter_id, choice)
  values (%L, 'aaaaaaaa-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'for')$$, :'tie'),
  '42501', null, 'and cannot vote on them');
select tests.clear_authentication();

select is(tests.tick(0), 0, 'before the period ends, the scheduler has nothing to do');
select is(tests.tick(4), 1, 'after it, the scheduler closes the proposal');
select is((select state::text from public.proposals where id = :'tie'), 'defeated', 'a tie is defeated');
select throws_ok(format($$select tests.vote('a0000000-0000-4000-8000-000000000005', %L, 'for')$$, :'tie'),
  '55000', null, 'a vote after close is refused by the database');
select is(tests.tick(5), 0, 'a closed proposal is not closed again');

-- ---------------------------------------------------------------------------------------------------------
-- A parameter change that passes is executed, exactly once
-- ---------------------------------------------------------------------------------------------------------
select tests.propose('a0000000-0000-4000-8000-000000000002', 'parameter_change', 'Lower the quorum',
  '{"setting": "quorum_percent", "value": 25}') as change \gset
select tests.vote('a0000000-0000-4000-8000-000000000002', :'change', 'for');
select tests.vote('a0000000-0000-4000-8000-000000000004', :'change', 'for');
select tests.vote('a0000000-0000-4000-8000-000000000001', :'change', 'against');
select is(tests.tick(4), 1, 'the scheduler closes it');
select is((select state::text from public.proposals where id = :'change'), 'succeeded', 'two for, one against: succeeded');
select is(tests.tick(4) + tests.tick(4), 1, 'the next steps execute it once, and then nothing');
select results_eq(format($$select state::text, outcome ->> 'done' from public.proposals where id = %L$$, :'change'),
  $$values ('executed', 'setting_changed')$$, 'it is executed');
select is((select quorum_percent from public.governance_settings where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 25.00,
  'and the team''s quorum is now 25 %');
select is((select array_agg(payload ->> 'to' order by seq) from public.outbox_events
  where aggregate_id = :'change' and event_type = 'proposal.state_changed'), array['succeeded', 'executed'],
  'each step is one event');

-- ---------------------------------------------------------------------------------------------------------
-- Below quorum; a treasury payout of a team without a treasury waits and expires; cancelling; bad actions
-- ---------------------------------------------------------------------------------------------------------
select tests.propose('a0000000-0000-4000-8000-000000000002', 'signal', 'Quiet one') as quiet \gset
-- the new quorum is 25 %: one vote of four is exactly at it; with none the proposal is defeated
select is(tests.tick(4), 1, 'with no votes at all the proposal closes');
select is((select state::text from public.proposals where id = :'quiet'), 'defeated', 'below quorum: defeated');

select tests.propose('a0000000-0000-4000-8000-000000000002', 'treasury_payout', 'Pay the roofer',
  '{"recipient": "0x00000000000000000000000000000000000000aa", "amount": "1000", "asset": "RINGK"}') as payout \gset
select tests.vote('a0000000-0000-4000-8000-000000000004', :'payout', 'for');
select is(tests.tick(4) + tests.tick(4), 2, 'a passed treasury payout is closed, then queued');
select is((select outcome -> 'error' ->> 'code' from public.proposals where id = :'payout'), 'no_treasury',
  'its outcome says why: the team has no treasury');
select is(tests.tick(20), 1, 'nothing pays it (no treasury appears)');
select is((select state::text from public.proposals where id = :'payout'), 'expired', 'so it expires after its execution window');

select tests.propose('a0000000-0000-4000-8000-000000000002', 'signal', 'Never mind') as mine \gset
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select is(tests.rows_affected(format($$update public.proposals set state = 'canceled' where id = %L$$, :'mine')), 0,
  'a member cannot cancel someone else''s proposal');
select tests.clear_authentication();
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(tests.rows_affected(format($$update public.proposals set state = 'canceled' where id = %L$$, :'mine')), 1,
  'its author can');
select throws_ok($$insert into public.proposals (team_id, kind, title, action, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'parameter_change', 'Quorum 500', '{"setting": "quorum_percent", "value": 500}',
   'a0000000-0000-4000-8000-000000000002')$$, '22023', null, 'a parameter change out of bounds is refused');
select throws_ok($$select * from app.governance_tick()$$, '42501', null, 'an API caller cannot run the scheduler''s step');
select tests.clear_authentication();

select * from finish();
rollback;

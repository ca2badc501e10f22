-- Treasury proposals and stake-weighted votes in the database itself: a passed treasury proposal becomes one
-- approved payout linked to it (never a second, the link never moves), visible to the team and not to another;
-- a stake-weighted ballot weighs the stake at the snapshot, the caller cannot set it, and the tally sums it.
begin;
\ir helpers/authenticate.sql
select plan(13);

-- Arrange, as the superuser: team A (Alice owner; Bob, Dan members) with a treasury on chain 31337; team B (Carol).
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('a0000000-0000-4000-8000-000000000004', 'dan@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 'member');
insert into public.chain_tokens (chain_id, symbol, address) values (31337, 'RINGK', '0x5fbdb2315678afecb367f032d93f642f64180aa3')
  on conflict do nothing;
insert into public.wallets (team_id, kind, chain_id, address)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'treasury', 31337, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');

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

-- ---------------------------------------------------------------------------------------------------------
-- A treasury proposal that passes
-- ---------------------------------------------------------------------------------------------------------
insert into public.proposals (id, team_id, kind, title, action, created_by) values
  ('cccccccc-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'treasury_payout', 'Pay the roofer',
   '{"recipient": "0x00000000000000000000000000000000000000aa", "amount": "1000", "asset": "RINGK"}',
   'a0000000-0000-4000-8000-000000000002');
select tests.vote('a0000000-0000-4000-8000-000000000002', 'cccccccc-0000-4000-8000-000000000001', 'for');
select tests.vote('a0000000-0000-4000-8000-000000000004', 'cccccccc-0000-4000-8000-000000000001', 'for');
select is((select count(*)::int from app.governance_tick(100, now() + interval '4 days')), 1, 'the scheduler closes it');
select is((select array_agg(to_state::text) from app.governance_tick(100, now() + interval '4 days')), array['executed'],
  'and executes it in the next step');
select results_eq($$select status, chain_id, token, recipient, amount::text from public.payouts
  where proposal_id = 'cccccccc-0000-4000-8000-000000000001'$$,
  $$values ('approved', 31337::bigint, '0x5fbdb2315678afecb367f032d93f642f64180aa3', '0x00000000000000000000000000000000000000aa', '1000')$$,
  'one payout, approved, from the team''s treasury chain and token to the recipient');
select is((select outcome ->> 'payout_id' from public.proposals where id = 'cccccccc-0000-4000-8000-000000000001'),
  (select id::text from public.payouts where proposal_id = 'cccccccc-0000-4000-8000-000000000001'), 'the outcome names the payout');
select is((select count(*)::int from app.governance_tick(100, now() + interval '30 days')), 0, 'a later step does nothing');
select throws_ok($$insert into public.payouts (team_id, chain_id, token, recipient, amount, idempotency_key, request_hash, proposal_id)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 31337, '0x5fbdb2315678afecb367f032d93f642f64180aa3',
          '0x00000000000000000000000000000000000000aa', 1, 'again', repeat('0', 64), 'cccccccc-0000-4000-8000-000000000001')$$,
  '23505', null, 'a second payout for the proposal is refused by a constraint');
select throws_ok($$update public.payouts set proposal_id = null where proposal_id = 'cccccccc-0000-4000-8000-000000000001'$$,
  '42501', null, 'the link to the proposal never changes');

select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select is((select proposal_id from public.payouts), 'cccccccc-0000-4000-8000-000000000001'::uuid,
  'a member sees the payout and the proposal that approved it');
select tests.clear_authentication();
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select is((select count(*)::int from public.payouts), 0, 'another team does not');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- Stake-weighted votes
-- ---------------------------------------------------------------------------------------------------------
update public.governance_settings set vote_weight = 'staked_ringk' where team_id = 'aaaaaaaa-0000-4000-8000-000000000000';
-- stakes locked an hour before the proposal: Bob 70, Dan 30
insert into public.staking_ringk (team_id, user_id, amount, lock_days, created_at, locked_until) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 70, 0, now() - interval '1 hour', now()),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 30, 0, now() - interval '1 hour', now());
-- the proposal below is made now (its snapshot): Bob's extra stake half an hour ago counts, Dan's a minute after
-- the snapshot does not
insert into public.staking_ringk (team_id, user_id, amount, lock_days, created_at, locked_until) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 5, 0, now() - interval '30 minutes', now()),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 900, 0, now() + interval '1 minute', now());
select is(app.member_stake_at('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', now()),
  75::numeric, 'a member''s stake at a moment counts the stakes locked by then');
select is(app.team_stake_at('aaaaaaaa-0000-4000-8000-000000000000', now()), 105::numeric,
  'and the team''s, without stake locked after it');

insert into public.proposals (id, team_id, kind, title, created_by) values
  ('cccccccc-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'signal', 'Weighted', 'a0000000-0000-4000-8000-000000000002');
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select throws_ok($$insert into public.votes (proposal_id, team_id, voter_id, choice, weight) values
  ('cccccccc-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'for', 1000000)$$,
  '42501', null, 'a voter cannot set the weight of their vote');
select tests.clear_authentication();
select tests.vote('a0000000-0000-4000-8000-000000000002', 'cccccccc-0000-4000-8000-000000000002', 'against');
select tests.vote('a0000000-0000-4000-8000-000000000004', 'cccccccc-0000-4000-8000-000000000002', 'for');
select tests.vote('a0000000-0000-4000-8000-000000000001', 'cccccccc-0000-4000-8000-000000000002', 'for');
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select results_eq($$select vote_weight, for_votes, for_weight, against_weight, eligible_weight, quorum_reached, threshold_reached
  from public.proposal_tallies where proposal_id = 'cccccccc-0000-4000-8000-000000000002'$$,
  $$values ('staked_ringk', 2, 30::numeric, 75::numeric, 105::numeric, true, false)$$,
  'the tally sums stake at the snapshot (Alice has none), against the team''s stake then; 30 for, 75 against: not passed');
select tests.clear_authentication();

select * from finish();
rollback;

-- Wallet domain in the database: the payout state machine, distinct approvers up to the team's threshold,
-- idempotency keys, one outbox event per transition, the balanced append-only ledger, staking locks, and
-- row-level security between teams.
begin;
\ir helpers/authenticate.sql
select plan(36);

-- Arrange: team A (Alice owner, Bob admin, Mia member), team B (Carol owner).
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('a0000000-0000-4000-8000-000000000004', 'mia@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'admin'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 'member');

create temporary table ids (name text primary key, id uuid);
grant all on ids to authenticated;
\set token '''0x00000000000000000000000000000000000000aa'''
\set recipient '''0x00000000000000000000000000000000000000bb'''
\set hash1 '''1111111111111111111111111111111111111111111111111111111111111111'''
\set hash2 '''2222222222222222222222222222222222222222222222222222222222222222'''

-- ---------------------------------------------------------------------------------------------------------
-- Requests and idempotency keys
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
insert into ids select 'p1', payout_id from app.request_payout('aaaaaaaa-0000-4000-8000-000000000000', 31337, :token,
  upper(:recipient), 1000000000000000000000000, 'first', 'key-1', :hash1);
select is((select status from public.payouts where id = (select id from ids where name = 'p1')), 'requested',
  'a member requests a payout; it starts as requested');
select is((select recipient from public.payouts where id = (select id from ids where name = 'p1')), :recipient,
  'addresses are stored lower-case');
select is((select amount::text from public.payouts where id = (select id from ids where name = 'p1')), '1000000000000000000000000',
  'the amount is exact in base units');
select results_eq(
  $$select payout_id = (select id from ids where name = 'p1'), request_hash, replayed from app.request_payout(
    'aaaaaaaa-0000-4000-8000-000000000000', 31337, '0x00000000000000000000000000000000000000aa',
    '0x00000000000000000000000000000000000000bb', 5, 'other', 'key-1',
    '2222222222222222222222222222222222222222222222222222222222222222')$$,
  $$values (true, '1111111111111111111111111111111111111111111111111111111111111111', true)$$,
  'the same key finds the first payout and its request hash (the gateway compares it), whatever the body');
select is((select count(*)::int from public.payouts), 1, 'so a replay records nothing new');
select throws_ok($$select * from app.request_payout('bbbbbbbb-0000-4000-8000-000000000000', 31337,
  '0x00000000000000000000000000000000000000aa', '0x00000000000000000000000000000000000000bb', 5, '', 'k', repeat('1', 64))$$,
  '42501', null, 'nobody requests a payout from another team');
select throws_ok($$select * from app.request_payout('aaaaaaaa-0000-4000-8000-000000000000', 31337,
  '0x00000000000000000000000000000000000000aa', 'not-an-address', 5, '', 'k2', repeat('1', 64))$$,
  '23514', null, 'a malformed recipient address is refused');
select throws_ok($$select * from app.request_payout('aaaaaaaa-0000-4000-8000-000000000000', 31337,
  '0x00000000000000000000000000000000000000aa', '0x00000000000000000000000000000000000000bb', 0, '', 'k3', repeat('1', 64))$$,
  '23514', null, 'a zero amount is refused');
select throws_ok($$update public.payouts set status = 'approved'$$, '42501', null,
  'an API caller cannot change a payout directly');

-- ---------------------------------------------------------------------------------------------------------
-- Approvals: distinct approvers, not the requester, up to the threshold
-- ---------------------------------------------------------------------------------------------------------
select throws_ok($$select app.approve_payout((select id from ids where name = 'p1'))$$, '42501', null,
  'a member cannot approve (payout.approve is an admin''s)');
select tests.clear_authentication();
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select lives_ok($$select app.set_payout_threshold('aaaaaaaa-0000-4000-8000-000000000000', 2)$$, 'the owner sets a threshold of 2');
select is(app.approve_payout((select id from ids where name = 'p1')), 'recorded', 'one approval of two is recorded');
select is(app.approve_payout((select id from ids where name = 'p1')), 'already_approved', 'the same approver counts once');
select is((select status from public.payouts where id = (select id from ids where name = 'p1')), 'requested', 'still requested');
select tests.clear_authentication();
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(app.approve_payout((select id from ids where name = 'p1')), 'approved', 'a second approver meets the threshold');
insert into ids select 'p2', payout_id from app.request_payout('aaaaaaaa-0000-4000-8000-000000000000', 31337, :token,
  :recipient, 1, '', 'key-bob', :hash1);
select is(app.approve_payout((select id from ids where name = 'p2')), 'own_payout', 'an approver cannot approve their own request');
select is((select status from public.payouts where id = (select id from ids where name = 'p1')), 'approved', 'the payout is approved');
select is(app.cancel_payout((select id from ids where name = 'p1')), 'cancelled', 'an approver cancels an approved payout not yet sent');
select tests.clear_authentication();
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select is(app.approve_payout((select id from ids where name = 'p1')), 'not_found', 'another team''s payout is not found');
select is((select count(*)::int from public.payouts), 0, 'and not visible');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- The state machine, as the consumer (service role) drives it
-- ---------------------------------------------------------------------------------------------------------
insert into public.payouts (id, team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
values ('aaaaaaaa-9000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000',
  'a0000000-0000-4000-8000-000000000004', 31337, :token, :recipient, 7, 'direct', :hash1);
select throws_ok($$update public.payouts set status = 'confirmed' where id = 'aaaaaaaa-9000-4000-8000-000000000001'$$,
  '55000', null, 'requested cannot jump to confirmed');
update public.payouts set status = 'approved' where id = 'aaaaaaaa-9000-4000-8000-000000000001';
select throws_ok($$update public.payouts set status = 'submitted' where id = 'aaaaaaaa-9000-4000-8000-000000000001'$$,
  '23514', null, 'submitted needs the recorded transaction (nonce, signed tx, hash)');
update public.payouts set status = 'submitted', signer = :token, nonce = 0, signed_tx = '0xdead', tx_hash = '0x' || repeat('ab', 32)
where id = 'aaaaaaaa-9000-4000-8000-000000000001';
select throws_ok($$update public.payouts set signed_tx = '0xbeef' where id = 'aaaaaaaa-9000-4000-8000-000000000001'$$,
  '55000', null, 'a recorded signed transaction is never replaced');
select throws_ok($$update public.payouts set amount = 8 where id = 'aaaaaaaa-9000-4000-8000-000000000001'$$,
  '42501', null, 'the amount never changes');
update public.payouts set status = 'confirmed', block_number = 5, confirmations = 2 where id = 'aaaaaaaa-9000-4000-8000-000000000001';
select throws_ok($$update public.payouts set status = 'failed' where id = 'aaaaaaaa-9000-4000-8000-000000000001'$$,
  '55000', null, 'a confirmed payout is final');
select results_eq(
  $$select event_type from public.outbox_events where aggregate_id = 'aaaaaaaa-9000-4000-8000-000000000001' order by seq$$,
  $$values ('payout.requested'), ('payout.approved'), ('payout.submitted'), ('payout.confirmed')$$,
  'each transition enqueued its outbox event, in order');
select results_eq(
  $$select event_type from public.outbox_events where aggregate_id = (select id::text from ids where name = 'p1') order by seq$$,
  $$values ('payout.requested'), ('payout.approved'), ('payout.cancelled')$$,
  'so did the requested, approved and cancelled payout');

-- ---------------------------------------------------------------------------------------------------------
-- Ledger and staking
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select lives_ok($$select app.grant_credits('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 100, 'welcome')$$,
  'the owner grants Mia 100 credits');
select tests.clear_authentication();
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select throws_ok($$select app.grant_credits('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 100, '')$$,
  '42501', null, 'a member cannot grant credits');
insert into ids select 's1', app.stake_ringk('aaaaaaaa-0000-4000-8000-000000000000', 60, 30);
select throws_ok($$select app.stake_ringk('aaaaaaaa-0000-4000-8000-000000000000', 41, 0)$$,
  'P0001', null, 'staking more than one holds is refused');
select is(app.unstake_ringk((select id from ids where name = 's1')), 'locked', 'a stake cannot be withdrawn before its lock ends');
select results_eq(
  $$select account, sum(amount)::text from public.ledger_entries group by account order by account$$,
  $$values ('issuance', '-100'), ('member:a0000000-0000-4000-8000-000000000004', '40'), ('staked:a0000000-0000-4000-8000-000000000004', '60')$$,
  'balances: 40 spendable, 60 staked, 100 issued');
insert into ids select 's2', app.stake_ringk('aaaaaaaa-0000-4000-8000-000000000000', 40, 0);
select is(app.unstake_ringk((select id from ids where name = 's2')), 'withdrawn', 'a stake without lock is withdrawn at once');
select tests.clear_authentication();

select is((select sum(amount)::text from public.ledger_entries), '0', 'the ledger balances: debits = credits');
select throws_ok($$update public.ledger_entries set amount = 1$$, '42501', null, 'ledger entries are append-only');
insert into public.ledger_transactions (id, team_id, kind) values ('aaaaaaaa-7000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'gift');
insert into public.ledger_entries (transaction_id, team_id, account, amount)
values ('aaaaaaaa-7000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'issuance', -5),
       ('aaaaaaaa-7000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'member:a0000000-0000-4000-8000-000000000004', 4);
select throws_ok($$set constraints ledger_entries_balanced immediate$$, '23514', null,
  'an unbalanced ledger transaction is refused (at commit)');

select * from finish();
rollback;

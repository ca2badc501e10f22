-- Gift Fabric in the database: gifts between members of one team, refused to oneself, to non-members and
-- over the sender's available credits; applied to the ledger exactly once (a unique reference), refused
-- without a half-applied movement when the balance no longer covers them; no member account below zero; and
-- row-level security between teams.
begin;
\ir helpers/authenticate.sql
select plan(27);

-- Arrange: team A (Alice owner, Mia member, Ned member), team B (Carol owner); Mia holds 100 credits.
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000004', 'mia@a.test'),
  ('a0000000-0000-4000-8000-000000000005', 'ned@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 'member'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000005', 'member');
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select app.grant_credits('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 100, 'welcome');
select tests.clear_authentication();

create temporary table ids (name text primary key, id uuid);
grant all on ids to authenticated, service_role;
\set team '''aaaaaaaa-0000-4000-8000-000000000000'''
\set mia '''a0000000-0000-4000-8000-000000000004'''
\set ned '''a0000000-0000-4000-8000-000000000005'''
\set carol '''b0000000-0000-4000-8000-000000000003'''
\set hash1 '''1111111111111111111111111111111111111111111111111111111111111111'''
\set hash2 '''2222222222222222222222222222222222222222222222222222222222222222'''

-- ---------------------------------------------------------------------------------------------------------
-- Sending
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as(:mia);
insert into ids select 'g1', gift_id from app.send_gift(:team, :ned, 30, 'thanks', 'key-1', :hash1);
select is((select status from public.gifts where id = (select id from ids where name = 'g1')), 'sent', 'a member sends a gift; it starts as sent');
select results_eq(
  $$select gift_id = (select id from ids where name = 'g1'), request_hash, replayed
    from app.send_gift('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000005', 1, '', 'key-1',
      '2222222222222222222222222222222222222222222222222222222222222222')$$,
  $$values (true, '1111111111111111111111111111111111111111111111111111111111111111', true)$$,
  'the same key finds the first gift and its request hash, whatever the body');
select tests.clear_authentication();
select is(app.available_credits(:team, :mia), 70::numeric, 'available credits: 100 held minus 30 in flight');
select tests.authenticate_as(:mia);
select throws_like($$select * from app.send_gift('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000005', 71, '', 'key-2', repeat('1', 64))$$,
  'insufficient credits%', 'a gift over the available credits (100 held, 30 in flight) is refused at once');
select throws_ok($$select * from app.send_gift('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 1, '', 'key-3', repeat('1', 64))$$,
  '22023', null, 'a gift to oneself is refused');
select throws_ok($$select * from app.send_gift('aaaaaaaa-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 1, '', 'key-4', repeat('1', 64))$$,
  '22023', null, 'a gift to someone outside the team is refused');
select throws_ok($$select * from app.send_gift('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000005', 0, '', 'key-5', repeat('1', 64))$$,
  '22023', null, 'a zero amount is refused');
select throws_ok($$select * from app.send_gift('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000005', 1.5, '', 'key-6', repeat('1', 64))$$,
  '22023', null, 'a fractional amount is refused');
select throws_ok($$select * from app.send_gift('bbbbbbbb-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 1, '', 'key-7', repeat('1', 64))$$,
  '42501', null, 'nobody sends a gift in another team');
select throws_ok($$update public.gifts set status = 'delivered'$$, '42501', null, 'an API caller cannot change a gift');
select throws_ok($$insert into public.gifts (team_id, sender_id, recipient_id, amount, idempotency_key, request_hash)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000005', 1, 'x', repeat('1', 64))$$,
  '42501', null, 'nor insert one directly');
select throws_ok($$select app.apply_gift((select id from ids where name = 'g1'))$$, '42501', null, 'nor apply one (the consumer does)');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- Applying, as the consumer (service role) does
-- ---------------------------------------------------------------------------------------------------------
set local role service_role;
select is(app.apply_gift((select id from ids where name = 'g1')), 'delivered', 'the consumer applies a sent gift');
select is(app.apply_gift((select id from ids where name = 'g1')), 'already_delivered', 'applying it again moves nothing');
reset role;
select results_eq(
  $$select account, sum(amount)::text from public.ledger_entries where account like 'member:%' group by account order by account$$,
  $$values ('member:a0000000-0000-4000-8000-000000000004', '70'), ('member:a0000000-0000-4000-8000-000000000005', '30')$$,
  'the credits moved once: Mia 70, Ned 30');
select is((select reference from public.ledger_transactions where id = (select ledger_transaction_id from public.gifts where id = (select id from ids where name = 'g1'))),
  'gift:' || (select id from ids where name = 'g1'), 'the ledger transaction carries the gift as its unique reference');
select throws_ok($$insert into public.ledger_transactions (team_id, kind, reference)
  select 'aaaaaaaa-0000-4000-8000-000000000000', 'gift', 'gift:' || id from ids where name = 'g1'$$,
  '23505', null, 'a second ledger transaction for the same gift is refused');

-- a sent gift whose credits were staked away before it is applied is refused, nothing moved
select tests.authenticate_as(:mia);
insert into ids select 'g2', gift_id from app.send_gift(:team, :ned, 50, '', 'key-8', :hash2);
select app.stake_ringk(:team, 60, 0);
select tests.clear_authentication();
set local role service_role;
select is(app.apply_gift((select id from ids where name = 'g2')), 'refused', 'a gift the sender no longer covers is refused');
reset role;
select alike((select refusal_reason from public.gifts where id = (select id from ids where name = 'g2')), 'insufficient_credits:%',
  'with the reason');
select is((select ledger_transaction_id from public.gifts where id = (select id from ids where name = 'g2')), null, 'and no ledger movement');
select throws_ok($$update public.gifts set status = 'delivered' where id = (select id from ids where name = 'g2')$$,
  '55000', null, 'a refused gift is final');
select results_eq(
  $$select event_type from public.outbox_events where aggregate_type = 'gift' order by seq$$,
  $$values ('gift.sent'), ('gift.delivered'), ('gift.sent'), ('gift.refused')$$,
  'each state enqueued its outbox event, in order');

-- ---------------------------------------------------------------------------------------------------------
-- No member account below zero, whatever writes the ledger
-- ---------------------------------------------------------------------------------------------------------
insert into public.ledger_transactions (id, team_id, kind) values ('aaaaaaaa-7000-4000-8000-000000000002', :team, 'gift');
insert into public.ledger_entries (transaction_id, team_id, account, amount) values
  ('aaaaaaaa-7000-4000-8000-000000000002', :team, 'member:' || :mia, -11),
  ('aaaaaaaa-7000-4000-8000-000000000002', :team, 'member:' || :ned, 11);
select throws_ok($$set constraints ledger_entries_not_negative immediate$$, '23514', null,
  'an entry that takes a member account below zero is refused at commit');
set constraints ledger_entries_not_negative deferred;

-- ---------------------------------------------------------------------------------------------------------
-- Tenancy
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as(:ned);
select is((select count(*)::int from public.gifts), 2, 'a member sees the team''s gifts');
select tests.clear_authentication();
select tests.authenticate_as(:carol);
select is((select count(*)::int from public.gifts), 0, 'another team sees none');
select tests.clear_authentication();
select is(
  (select count(*)::int from pg_policies where tablename = 'gifts'), 1, 'one policy: holders of wallet.read read');
select is((select count(*)::int from public.bundle_capabilities where capability = 'gift.send'), 3, 'gift.send is in the member, admin and owner bundles');

select * from finish();
rollback;

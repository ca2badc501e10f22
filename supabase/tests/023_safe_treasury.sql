-- Safe treasuries (migration 20261205001110): the contract list is readable by signed-in people only and written
-- by nobody through the API; a payout on the Safe's chain gets the Safe and the lowest free Safe nonce (a nonce of
-- a payout cancelled before approval is free again), which never change; a Safe approval needs the caller's own
-- registered wallet; an address belongs to one member; the Safe is the team's treasury wallet on its chain (20261205001500);
-- an approved Safe payout cannot be cancelled, its SafeTx being payable until the Safe uses its nonce (20261205001600);
-- a submitted one's recorded transaction may be replaced by the one that executed its SafeTx (20261205001610).
begin;
\ir helpers/authenticate.sql
select plan(18);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-0000000000e1', 'owner@safe.test'),
  ('a0000000-0000-4000-8000-0000000000e2', 'admin@safe.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'Safe team', 'a0000000-0000-4000-8000-0000000000e1');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-0000000000e2', 'admin');
insert into public.chain_contracts (chain_id, name, address, genesis_hash)
values (31337, 'safe_singleton', '0x00000000000000000000000000000000000000a1', '0x' || repeat('a', 64));

select tests.authenticate_as('a0000000-0000-4000-8000-0000000000e1');
select is((select count(*)::int from public.chain_contracts), 1, 'a signed-in person reads the contract list');
select throws_ok($$insert into public.chain_contracts (chain_id, name, address, genesis_hash)
  values (1, 'dev_safe', '0x00000000000000000000000000000000000000a2', '0x' || repeat('b', 64))$$, '42501', null, 'but cannot add one');
select lives_ok($$select app.set_safe_treasury('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000005AF')$$,
  'the owner (wallet.manage) sets the team''s Safe');
select is((select address from public.wallets where team_id = 'aaaaaaaa-0000-4000-8000-0000000000e1' and kind = 'treasury' and chain_id = 31337),
  '0x00000000000000000000000000000000000005af', 'the Safe is the team''s treasury wallet on its chain (what treasury proposals pay from)');
select app.set_safe_treasury('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000005B0');
select is((select array_agg(address) from public.wallets where team_id = 'aaaaaaaa-0000-4000-8000-0000000000e1' and kind = 'treasury'),
  array['0x00000000000000000000000000000000000005b0'], 'setting another Safe on that chain moves the treasury to it');
select app.set_safe_treasury('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000005AF');
create temporary table ids as
select (app.request_payout('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000000aa',
  '0x00000000000000000000000000000000000000bb', 5, '', 'safe-pg-' || n, repeat('d', 64))).payout_id as id, n
from generate_series(1, 2) as n;
select is((select array_agg(safe_nonce order by n) from public.payouts join ids using (id)), array[0, 1]::bigint[],
  'payouts on the Safe''s chain get consecutive Safe nonces');
select is((select safe_address from public.payouts join ids using (id) where n = 1), '0x00000000000000000000000000000000000005af',
  'and the Safe, lower case');
select app.cancel_payout((select id from ids where n = 1)) \g /dev/null
insert into ids select r.payout_id, 3 from app.request_payout('aaaaaaaa-0000-4000-8000-0000000000e1', 31337,
  '0x00000000000000000000000000000000000000aa', '0x00000000000000000000000000000000000000bb', 6, '', 'safe-pg-3', repeat('d', 64)) r;
select is((select safe_nonce from public.payouts join ids using (id) where n = 3), 0::bigint,
  'the nonce of a payout cancelled before approval is taken again');
select tests.clear_authentication();
select throws_ok($$update public.payouts set safe_nonce = 9 where safe_nonce = 1$$, '55000', null, 'a payout''s Safe nonce never changes');

select tests.authenticate_as('a0000000-0000-4000-8000-0000000000e2');
select is(app.approve_safe_payout((select id from ids where n = 2), '0x00000000000000000000000000000000000000c1', '0x' || repeat('1', 130)),
  'not_your_wallet', 'a Safe approval with an address the approver did not register is refused');
select isnt(app.register_member_wallet('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000000C1'), null,
  'the admin registers their wallet');
select is(app.approve_safe_payout((select id from ids where n = 2), '0x00000000000000000000000000000000000000c1', '0x' || repeat('1', 130)),
  'approved', 'then their signed approval counts (the SQL threshold here is 1; the Safe''s own rules on chain)');
select tests.clear_authentication();
-- a third member signs after the SQL threshold was met: the Safe may need more owners than the team's threshold
insert into auth.users (id, email) values ('a0000000-0000-4000-8000-0000000000e3', 'third@safe.test');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-0000000000e3', 'admin');
select tests.authenticate_as('a0000000-0000-4000-8000-0000000000e3');
select app.register_member_wallet('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000000c3') \g /dev/null
select is(app.approve_safe_payout((select id from ids where n = 2), '0x00000000000000000000000000000000000000c3', '0x' || repeat('2', 130)),
  'recorded', 'an approved Safe payout not yet executed still takes owners'' signatures');
select tests.clear_authentication();
select tests.authenticate_as('a0000000-0000-4000-8000-0000000000e1');
select is(app.register_member_wallet('aaaaaaaa-0000-4000-8000-0000000000e1', 31337, '0x00000000000000000000000000000000000000c1'), null,
  'an address registered by another member is not the owner''s');
select is(app.cancel_payout((select id from ids where n = 2)), 'safe_signed',
  'the requester cannot cancel an approved Safe payout: its signed SafeTx stays payable until the Safe uses its nonce');
select is((select status from public.payouts join ids using (id) where n = 2), 'approved', 'it stays approved');
select tests.clear_authentication();
select throws_ok($$update public.payouts set status = 'cancelled' where id = (select id from ids where n = 2)$$, '55000', null,
  'nor can any other path cancel it: the database refuses');
update public.payouts set status = 'submitted', signer = '0x' || repeat('e', 40), nonce = 0, signed_tx = '0xdead',
  tx_hash = '0x' || repeat('ab', 32) where id = (select id from ids where n = 2);
select lives_ok($$update public.payouts set signer = '0x' || repeat('f', 40), nonce = 3, signed_tx = '0xbeef', tx_hash = '0x' || repeat('cd', 32)
  where id = (select id from ids where n = 2)$$,
  'a submitted Safe payout takes the transaction that executed its SafeTx in place of the recorded one (20261205001610)');

select * from finish();
rollback;

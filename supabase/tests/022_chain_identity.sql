-- Chain identity (migration 20261205001100): a payout's nonce is unique per chain genesis, not per chain id, so a
-- reset chain (same id, new genesis) starts again from nonce 0; the genesis a payout was signed for never changes.
begin;
select plan(5);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-0000000000d1', 'reset@a.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'Reset team', 'a0000000-0000-4000-8000-0000000000d1');
\set genesis_a '''0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'''
\set genesis_b '''0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'''

-- three approved payouts of the team (inserted requested, then approved, as the state machine wants)
insert into public.payouts (id, team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
select ('00000000-0000-4000-8000-0000000000d' || n)::uuid, 'aaaaaaaa-0000-4000-8000-0000000000d1',
  'a0000000-0000-4000-8000-0000000000d1', 31337, '0x00000000000000000000000000000000000000aa',
  '0x00000000000000000000000000000000000000bb', 1, 'reset-key-' || n, repeat('c', 64)
from generate_series(1, 3) as n;
update public.payouts set status = 'approved' where team_id = 'aaaaaaaa-0000-4000-8000-0000000000d1';

select lives_ok(format($$update public.payouts set status = 'submitted', signer = '0x00000000000000000000000000000000000000cc',
  nonce = 0, signed_tx = '0x01', tx_hash = '0x%s', chain_genesis = %L where id = '00000000-0000-4000-8000-0000000000d1'$$,
  repeat('1', 64), :genesis_a), 'nonce 0 on chain A');
select throws_ok(format($$update public.payouts set status = 'submitted', signer = '0x00000000000000000000000000000000000000cc',
  nonce = 0, signed_tx = '0x02', tx_hash = '0x%s', chain_genesis = %L where id = '00000000-0000-4000-8000-0000000000d2'$$,
  repeat('2', 64), :genesis_a), '23505', null, 'a second nonce 0 on chain A is refused');
select lives_ok(format($$update public.payouts set status = 'submitted', signer = '0x00000000000000000000000000000000000000cc',
  nonce = 0, signed_tx = '0x03', tx_hash = '0x%s', chain_genesis = %L where id = '00000000-0000-4000-8000-0000000000d3'$$,
  repeat('3', 64), :genesis_b), 'nonce 0 on chain B, the same chain id reset, is another transaction');
select throws_ok(format($$update public.payouts set chain_genesis = %L where id = '00000000-0000-4000-8000-0000000000d1'$$, :genesis_b),
  '55000', null, 'the chain a payout was signed for never changes');
select lives_ok($$update public.payouts set status = 'failed', last_error = 'the chain was reset'
  where id = '00000000-0000-4000-8000-0000000000d1'$$, 'a payout of a dead chain can fail');

select * from finish();
rollback;

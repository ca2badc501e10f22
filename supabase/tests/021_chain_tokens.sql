-- The token list: every signed-in person reads it, nobody writes it through the API, anonymous callers see nothing.
begin;
\ir helpers/authenticate.sql
select plan(4);

insert into auth.users (id, email) values ('a0000000-0000-4000-8000-0000000000c1', 'tokens@a.test');
insert into public.chain_tokens (chain_id, symbol, address) values (31337, 'RINGK', '0x00000000000000000000000000000000000000aa');

select tests.authenticate_as('a0000000-0000-4000-8000-0000000000c1');
select is((select count(*)::int from public.chain_tokens where symbol = 'RINGK'), 1, 'a signed-in person reads the token list');
select throws_ok(
  $$insert into public.chain_tokens (chain_id, symbol, address) values (1, 'FAKE', '0x00000000000000000000000000000000000000bb')$$,
  '42501', null, 'but cannot add a token');
select throws_ok($$update public.chain_tokens set treasury_balance = 1$$, '42501', null, 'nor change a balance');
select tests.clear_authentication();
select tests.authenticate_as_anon();
select throws_ok($$select count(*) from public.chain_tokens$$, '42501', null, 'an anonymous caller cannot read it');
select tests.clear_authentication();

select * from finish();
rollback;

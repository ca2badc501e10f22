-- The ERC-20 tokens the wallet pays in, per chain (RINGK on the local chain, deployed once by the launcher; the
-- testnet's on staging), with the hot signer's balance of each as the wallet worker last read it: the city
-- shows the treasury's balance without the gateway ever talking to a chain node.
-- Written only by the launcher and the wallet worker (the database owner); every signed-in person may read it.
--
-- Rolled back by supabase/rollbacks/20261205000710_chain_tokens.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** A token on a chain, and the treasury's (hot signer's) balance of it. Balances are base units, exact. */
create table if not exists public.chain_tokens (
  chain_id bigint not null check (chain_id > 0),
  symbol text not null check (symbol ~ '^[A-Z0-9]{1,12}$'),
  address text not null check (address ~ '^0x[0-9a-f]{40}$'),
  decimals integer not null default 18 check (decimals between 0 and 36),
  treasury_address text check (treasury_address ~ '^0x[0-9a-f]{40}$'),
  treasury_balance numeric(78, 0) check (treasury_balance >= 0),
  balance_read_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (chain_id, symbol),
  unique (chain_id, address)
);
alter table public.chain_tokens enable row level security;

drop policy if exists "Chain tokens are visible to signed-in people" on public.chain_tokens;
create policy "Chain tokens are visible to signed-in people" on public.chain_tokens
  for select to authenticated using ((select auth.uid()) is not null);

revoke all on public.chain_tokens from public, anon, authenticated;
grant select on public.chain_tokens to authenticated;

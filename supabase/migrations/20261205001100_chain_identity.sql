-- Chain identity: a chain id is not a chain. A fresh local node (anvil, chain id 31337 every time) is a new
-- chain under the same id, so what the wallet recorded per chain also records the chain's genesis block hash:
-- - `chain_tokens.genesis_hash`: the chain the token address was deployed on (ensureRingk redeploys on another);
-- - `payouts.chain_genesis`: the chain the payout's transaction was signed for. The worker draws a signer's next
--   nonce only from payouts of the same genesis (before, a reset chain inherited the old chain's nonces, skipped
--   ahead, and the payout waited in `submitted` forever behind a nonce gap), and fails a payout submitted on a
--   chain that no longer exists (its transaction can never confirm there) with a last_error that says so.
-- Rows recorded before this migration have no genesis (null): they are followed as before.
--
-- Rolled back by supabase/rollbacks/20261205001100_chain_identity.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.chain_tokens add column genesis_hash text check (genesis_hash ~ '^0x[0-9a-f]{64}$');
alter table public.payouts add column chain_genesis text check (chain_genesis ~ '^0x[0-9a-f]{64}$');

-- one nonce pays one payout per signer on one chain: the same nonce on a reset chain is another transaction
alter table public.payouts drop constraint payouts_chain_id_signer_nonce_key;
alter table public.payouts add constraint payouts_chain_genesis_signer_nonce_key unique (chain_id, chain_genesis, signer, nonce);

/** The chain a payout's transaction was signed for is part of that transaction: recorded once, never replaced. */
create function app.guard_payout_chain_genesis() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.chain_genesis is not null and new.chain_genesis is distinct from old.chain_genesis then
    raise exception 'payout % was signed for chain %; that never changes', old.id, old.chain_genesis using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger payouts_guard_chain_genesis before update of chain_genesis on public.payouts
  for each row execute function app.guard_payout_chain_genesis();

revoke all on function app.guard_payout_chain_genesis() from public, anon, authenticated;

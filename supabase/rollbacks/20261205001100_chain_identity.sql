-- Rolls back supabase/migrations/20261205001100_chain_identity.sql: no chain identity. Restoring the old
-- uniqueness of (chain, signer, nonce) fails loudly if payouts of two chain resets share a nonce; fail or
-- delete those test payouts first.
drop trigger if exists payouts_guard_chain_genesis on public.payouts;
drop function if exists app.guard_payout_chain_genesis();
alter table public.payouts drop constraint if exists payouts_chain_genesis_signer_nonce_key;
alter table public.payouts add constraint payouts_chain_id_signer_nonce_key unique (chain_id, signer, nonce);
alter table public.payouts drop column if exists chain_genesis;
alter table public.chain_tokens drop column if exists genesis_hash;

-- Rolls back supabase/migrations/20261205001110_safe_treasury.sql: no Safe treasuries (payouts keep their rows;
-- their Safe, Safe nonce and the approvers' signatures go).
drop function if exists app.approve_safe_payout(uuid, text, text);
drop function if exists app.set_safe_treasury(uuid, bigint, text);
drop function if exists app.register_member_wallet(uuid, bigint, text);
drop trigger if exists payouts_guard_safe on public.payouts;
drop function if exists app.guard_payout_safe();
drop trigger if exists payouts_assign_safe on public.payouts;
drop function if exists app.assign_payout_safe();
alter table public.payout_approvals drop column if exists signature, drop column if exists signer_address;
alter table public.payouts drop column if exists safe_nonce, drop column if exists safe_address;
alter table public.wallet_settings drop column if exists safe_address, drop column if exists safe_chain_id;
drop table if exists public.chain_contracts;

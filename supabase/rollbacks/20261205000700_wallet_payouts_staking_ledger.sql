-- Rollback of 20261205000700_wallet_payouts_staking_ledger.sql: the wallet tables and functions gone, with their
-- capabilities, bundle rows and event types. Outbox rows of wallet events already enqueued stay (the relay has
-- published them); app.event_types no longer lists their types, so no new ones can be enqueued.

drop table if exists public.staking_ringk_history, public.staking_ringk, public.ledger_entries,
  public.ledger_transactions, public.payout_approvals, public.payouts, public.wallet_settings, public.wallets cascade;

drop function if exists app.unstake_ringk(uuid), app.stake_ringk(uuid, numeric, integer), app.record_stake_state(),
  app.guard_stake_transition(), app.grant_credits(uuid, uuid, numeric, text),
  app.post_ledger_transfer(uuid, text, text, text, numeric, text, uuid), app.ledger_balance(uuid, text),
  app.refuse_ledger_change(), app.check_ledger_transaction_balanced(), app.set_payout_threshold(uuid, integer),
  app.cancel_payout(uuid), app.approve_payout(uuid),
  app.request_payout(uuid, bigint, text, text, numeric, text, text, text), app.enqueue_payout_event(),
  app.guard_payout_insert(), app.guard_payout_transition(), app.payout_threshold(uuid);

delete from app.event_types where event_type in ('payout.requested', 'payout.approved', 'payout.submitted',
  'payout.confirmed', 'payout.failed', 'payout.cancelled', 'stake.locked', 'stake.withdrawn', 'credits.granted');
delete from public.bundle_capabilities where capability in ('wallet.read', 'stake.manage', 'wallet.manage');
delete from public.capabilities where name in ('wallet.read', 'stake.manage', 'wallet.manage');

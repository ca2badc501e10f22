-- Rollback of 20261205001200_gift_fabric.sql: gifts, their functions, the ledger's reference column and its
-- non-negative check gone, with the gift.send capability and the gift event types. Ledger transactions of
-- delivered gifts stay (the ledger is append-only; they are ordinary kind 'gift' movements).

drop table if exists public.gifts cascade;
drop function if exists app.apply_gift(uuid), app.send_gift(uuid, uuid, numeric, text, text, text),
  app.available_credits(uuid, uuid), app.enqueue_gift_event(), app.guard_gift_insert(), app.guard_gift_transition();
drop trigger if exists ledger_entries_not_negative on public.ledger_entries;
drop function if exists app.check_ledger_account_not_negative();
drop index if exists public.ledger_transactions_reference_key;
alter table public.ledger_transactions drop column if exists reference;

delete from app.event_types where event_type in ('gift.sent', 'gift.delivered', 'gift.refused');
delete from public.bundle_capabilities where capability = 'gift.send';
delete from public.capabilities where name = 'gift.send';

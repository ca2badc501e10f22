-- Rollback of 20261127000300_outbox_relay.sql.
-- scripts/migrate.sh down runs this and deletes the ledger row in the same transaction.

drop view if exists public.outbox_dead_letters;
drop index if exists public.outbox_events_retry_wait_idx;
create index if not exists outbox_events_aggregate_idx on public.outbox_events (aggregate_type, aggregate_id, seq);
drop trigger if exists outbox_events_notify_relay on public.outbox_events;
drop trigger if exists outbox_events_sequence_in_commit_order on public.outbox_events;
drop function if exists app.notify_outbox_relay();
drop sequence if exists app.outbox_notify_clock;
drop function if exists app.outbox_notify_interval_ms();
drop function if exists app.sequence_outbox_event_in_commit_order();
alter table public.outbox_events drop column if exists lane;
drop function if exists app.outbox_lane_lock_class();
drop function if exists app.outbox_lane_count();

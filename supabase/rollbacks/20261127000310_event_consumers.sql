-- Rollback of 20261127000310_event_consumers.sql.
-- scripts/migrate.sh down runs this and deletes the ledger row in the same transaction.

drop table if exists public.telemetry_event_counts, public.consumer_processed_events;

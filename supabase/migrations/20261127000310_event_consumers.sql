-- Event consumers (workers/consumers): the processed-events ledger that makes every consumer idempotent by
-- event id, and the per-type event counts of the telemetry consumer.
--
-- Rolled back by supabase/rollbacks/20261127000310_event_consumers.sql.

/** Events each durable consumer has handled. A consumer inserts the row in the same transaction as the
    handler's own writes, so a redelivered or replayed message finds it and is acknowledged without being
    handled twice. Kept at least as long as the events stream keeps messages. */
create table public.consumer_processed_events (
  consumer text not null,
  event_id uuid not null,
  event_type text not null,
  stream_sequence bigint,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
create index consumer_processed_events_processed_at_idx on public.consumer_processed_events (processed_at);

/** Events seen per event type, kept by the telemetry consumer (exactly once per event id). */
create table public.telemetry_event_counts (
  event_type text primary key,
  events bigint not null default 0,
  -- when the newest counted event was written to the outbox
  last_occurred_at timestamptz,
  updated_at timestamptz not null default now()
);

-- Worker bookkeeping: RLS on and no policy, so only the workers (table owner or service_role) see it.
alter table public.consumer_processed_events enable row level security;
alter table public.telemetry_event_counts enable row level security;

revoke all on public.consumer_processed_events, public.telemetry_event_counts from public, anon, authenticated;
grant all on public.consumer_processed_events, public.telemetry_event_counts to service_role;

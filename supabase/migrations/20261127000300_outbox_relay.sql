-- Outbox relay support: lanes that let several relays share the outbox without reordering an aggregate's
-- events, commit-ordered sequence numbers per aggregate, the NOTIFY that wakes the relay, an index for the
-- retry rule, and the dead-letter view. The design is written down in workers/outbox-relay/README.md.
--
-- Rolled back by supabase/rollbacks/20261127000300_outbox_relay.sql.

-- =========================================================================================================
-- Lanes
-- =========================================================================================================

/** Number of lanes the outbox is split into; outbox_events.lane below hard-codes `& 15`, keep them in step.
    A relay holds a lane by a session advisory lock (key pair app.outbox_lane_lock_class(), lane). */
create function app.outbox_lane_count() returns integer
language sql immutable
set search_path = ''
as $$ select 16 $$;

/** First key of the advisory locks that lease lanes to relays ('OBLN'); the second key is the lane. */
create function app.outbox_lane_lock_class() returns integer
language sql immutable
set search_path = ''
as $$ select 1329810510 $$;

-- Every event of one aggregate falls in the same lane, so one relay at a time publishes it.
alter table public.outbox_events
  add column lane smallint generated always as ((hashtext(aggregate_type || ':' || aggregate_id) & 15)::smallint) stored;

-- =========================================================================================================
-- Commit order per aggregate
-- =========================================================================================================

/** Makes seq order equal commit order within an aggregate. A transaction that drew a lower seq could commit
    after one that drew a higher seq; here each insert first takes a transaction-level advisory lock on its
    aggregate ('OBAG', hash of the aggregate) and only then draws seq, so a second writer of the same
    aggregate waits until the first commits or rolls back. Writers of different aggregates never wait. */
create function app.sequence_outbox_event_in_commit_order() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(1329807687, hashtext(new.aggregate_type || ':' || new.aggregate_id));
  -- the identity default was drawn before this trigger ran, i.e. before the lock: draw again under it
  new.seq := nextval(pg_get_serial_sequence('public.outbox_events', 'seq'));
  return new;
end
$$;
create trigger outbox_events_sequence_in_commit_order before insert on public.outbox_events
  for each row execute function app.sequence_outbox_event_in_commit_order();

-- =========================================================================================================
-- Wake-up
-- =========================================================================================================

/** Milliseconds between two wake-up notifications; relays poll at this interval for a while after each
    wake-up, so the events whose notification was skipped are picked up just as fast. */
create function app.outbox_notify_interval_ms() returns integer
language sql immutable
set search_path = ''
as $$ select 5 $$;

/** When the last wake-up notification was sent (ms since the epoch). A sequence, because it is shared by
    every session and changes outside transactions: no row lock, no bloat. */
create sequence app.outbox_notify_clock;

/** Wakes the relays (LISTEN outbox_events), at most once per app.outbox_notify_interval_ms(). Postgres holds
    a global lock from a notifying transaction's commit until its WAL is flushed, so a NOTIFY in every
    transaction would line all event-writing commits up behind each other's fsync (about 1 / fsync time per
    second for the whole database); skipping the ones that follow closely lets the rest commit in groups.
    The notification is delivered at commit, so a relay never wakes for rows it cannot see yet. */
create function app.notify_outbox_relay() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
begin
  if now_ms - (select last_value from app.outbox_notify_clock) >= app.outbox_notify_interval_ms() then
    perform setval('app.outbox_notify_clock', now_ms);
    perform pg_notify('outbox_events', '');
  end if;
  return null;
end
$$;
create trigger outbox_events_notify_relay after insert on public.outbox_events
  for each statement execute function app.notify_outbox_relay();

-- =========================================================================================================
-- Retries and dead letters
-- =========================================================================================================

-- The claim skips an aggregate whose earlier event waits for a retry; this index holds only those waiting
-- rows, so the check is a probe into a tiny index.
create index outbox_events_retry_wait_idx on public.outbox_events (aggregate_type, aggregate_id, seq)
  where not processed and dead_lettered_at is null and next_attempt_at is not null;

-- Every event is written once and updated once (marked processed); each index costs an entry on both. Nothing
-- reads this one (the retry check above uses the partial index), so it goes.
drop index public.outbox_events_aggregate_idx;

/** Events the relay gave up on, newest first: why (last_error), how often it tried, and the payload's size.
    security_invoker: reading it needs the same rights as reading outbox_events. */
create view public.outbox_dead_letters with (security_invoker = true) as
  select id, seq, aggregate_type, aggregate_id, event_type, event_version, correlation_id, created_at, attempts,
    last_error, dead_lettered_at, octet_length(payload::text) as payload_bytes
  from public.outbox_events
  where dead_lettered_at is not null;

revoke all on public.outbox_dead_letters from public, anon, authenticated;
grant select on public.outbox_dead_letters to service_role;

revoke all on function app.outbox_lane_count(), app.outbox_lane_lock_class(), app.outbox_notify_interval_ms(),
  app.sequence_outbox_event_in_commit_order(), app.notify_outbox_relay() from public;
revoke all on sequence app.outbox_notify_clock from public;
grant execute on function app.outbox_lane_count(), app.outbox_lane_lock_class(), app.outbox_notify_interval_ms() to service_role;

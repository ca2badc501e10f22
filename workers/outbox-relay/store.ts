// The relay's SQL: claiming a batch in commit order, recording what happened to each event, and reading the
// outbox's state. Every statement is one short transaction; no lock is held across a publish.
import type { Sql } from '../lib/postgres.ts';

/** The channel app.notify_outbox_relay() notifies on every insert; relays LISTEN on it. */
export const NOTIFY_CHANNEL = 'outbox_events';

/** One outbox row as the relay handles it; the payload stays JSON text, exactly as it will be published. */
export interface OutboxRow {
  id: string;
  seq: string;
  lane: number;
  aggregateType: string;
  aggregateId: string;
  eventType: string;
  eventVersion: number;
  payload: string;
  correlationId: string | null;
  /** ISO 8601, UTC. */
  createdAt: string;
  attempts: number;
}

/** Identifies an aggregate across types: its events share a lane and must reach the stream in order. */
export const aggregateKey = (row: Pick<OutboxRow, 'aggregateType' | 'aggregateId'>): string => `${row.aggregateType}:${row.aggregateId}`;

const textArray = (values: readonly string[]) => `{${values.map((v) => `"${v.replace(/(["\\])/g, '\\$1')}"`).join(',')}}`;

/** Where a publishable event sits: enough to choose a batch without moving payloads around. */
export interface ClaimCandidate {
  id: string;
  lane: number;
  aggregateType: string;
  aggregateId: string;
}

/** An OutboxRow's columns, from `public.outbox_events e`. */
const outboxRowColumns = (sql: Sql) => sql`
  e.id, e.seq::text as seq, e.lane, e.aggregate_type as "aggregateType", e.aggregate_id as "aggregateId",
  e.event_type as "eventType", e.event_version as "eventVersion", e.payload::text as payload,
  e.correlation_id as "correlationId",
  to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdAt", e.attempts`;

/** Events `e` of the given lanes that may be published now: not done, and no event of their aggregate up to
    them waits out a retry backoff. */
const publishableInLanes = (sql: Sql, lanes: readonly number[]) => sql`
  e.lane = any(${`{${lanes.join(',')}}`}::smallint[])
  and not e.processed and e.dead_lettered_at is null
  and not exists (
    select 1 from public.outbox_events w
    where w.aggregate_type = e.aggregate_type and w.aggregate_id = e.aggregate_id and w.seq <= e.seq
      and not w.processed and w.dead_lettered_at is null and w.next_attempt_at > now()
  )`;

/**
 * The oldest publishable events of the given lanes, in seq order (= commit order within an aggregate, see
 * migration 20261127000300), without payloads. Skipped: every event of an aggregate from the first one
 * that waits out a retry backoff on, so a failing event never lets its successors overtake it. The caller
 * leaves out what it already has in flight (cheaper in a Set than in SQL: a long array parameter is
 * compared element by element in a generic plan).
 */
export function findClaimCandidates(sql: Sql, lanes: readonly number[], limit: number): Promise<ClaimCandidate[]> {
  return sql<ClaimCandidate[]>`
    select e.id, e.lane, e.aggregate_type as "aggregateType", e.aggregate_id as "aggregateId"
    from public.outbox_events e
    where ${publishableInLanes(sql, lanes)}
    order by e.seq
    limit ${limit}`;
}

/** findClaimCandidates with the payloads: one round trip instead of two, for when little is in flight (the
    rows the caller has to skip are then few, so sending them again costs less than a second query). */
export function findClaimRows(sql: Sql, lanes: readonly number[], limit: number): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    select ${outboxRowColumns(sql)}
    from public.outbox_events e
    where ${publishableInLanes(sql, lanes)}
    order by e.seq
    limit ${limit}`;
}

/** The chosen events with their payloads, in seq order; any published meanwhile drop out. */
export function loadEvents(sql: Sql, ids: readonly string[]): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    select ${outboxRowColumns(sql)}
    from public.outbox_events e
    where e.id = any(${`{${ids.join(',')}}`}::uuid[]) and not e.processed and e.dead_lettered_at is null
    order by e.seq`;
}

/** Marks published events processed. Idempotent. */
export async function markProcessed(sql: Sql, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update public.outbox_events set processed = true, processed_at = now(), next_attempt_at = null
    where id = any(${`{${ids.join(',')}}`}::uuid[]) and not processed`;
}

export interface FailedAttempt {
  id: string;
  /** `<reason>: <detail>`, stored in last_error. */
  error: string;
  /** A poison event (the event itself is wrong) is dead-lettered at maxAttempts; a transient failure (NATS
      away, a stream error) is retried for as long as it takes. Both wait out a backoff before the next try. */
  poison: boolean;
}

export interface RetryPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Records failed attempts: attempts + 1, last_error, and either the next attempt (backoff doubling per
    attempt, with jitter) or, for a poison event at its last attempt, the dead letter. Returns the events
    dead-lettered now, with their attempts. */
export async function recordFailedAttempts(
  sql: Sql,
  failures: readonly FailedAttempt[],
  policy: RetryPolicy,
): Promise<{ id: string; attempts: number }[]> {
  if (failures.length === 0) return [];
  const recorded = await sql<{ id: string; attempts: number; deadLettered: boolean }[]>`
    update public.outbox_events e set
      attempts = e.attempts + 1,
      last_error = left(f.error, 2000),
      next_attempt_at = case when not (f.poison and e.attempts + 1 >= ${policy.maxAttempts})
        then now() + least(${policy.backoffMaxMs}::float8, ${policy.backoffBaseMs}::float8 * power(2, least(e.attempts, 30)))
          * (0.75 + random() / 2) * interval '1 millisecond'
      end,
      dead_lettered_at = case when f.poison and e.attempts + 1 >= ${policy.maxAttempts} then now() end
    from unnest(
      ${`{${failures.map((f) => f.id).join(',')}}`}::uuid[],
      ${textArray(failures.map((f) => f.error))}::text[],
      ${`{${failures.map((f) => f.poison).join(',')}}`}::boolean[]
    ) as f(id, error, poison)
    where e.id = f.id and not e.processed and e.dead_lettered_at is null
    returning e.id, e.attempts, e.dead_lettered_at is not null as "deadLettered"`;
  return recorded.filter((r) => r.deadLettered).map(({ id, attempts }) => ({ id, attempts }));
}

/** NATS is back: events that failed only because it was away may go now instead of at their backoff's end. */
export async function releaseWaitsOnNats(sql: Sql, lanes: readonly number[]): Promise<number> {
  if (lanes.length === 0) return 0;
  const released = await sql`
    update public.outbox_events set next_attempt_at = null
    where lane = any(${`{${lanes.join(',')}}`}::smallint[]) and not processed and dead_lettered_at is null
      and next_attempt_at > now() and last_error like 'nats_unavailable:%'`;
  return released.count;
}

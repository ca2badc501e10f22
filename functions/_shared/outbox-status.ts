// The state of the event pipeline as operators read it: the outbox (backlog, oldest unprocessed event,
// retries, dead letters, which relay holds which lane) and the JetStream streams with their consumers'
// pending counts. Runtime-agnostic (postgres.js + a JetStreamManager handed in), so the admin API on Deno
// and the relay's Node tooling read the same numbers with the same SQL. Run with a role that may read
// outbox_events (service_role or the table owner).
import type { JetStreamManager } from '@nats-io/jetstream';
import type postgres from 'postgres';
import type { StreamDefinition } from './events/streams.ts';

type Sql = postgres.Sql | postgres.TransactionSql;

/** The outbox as status and metrics report it (matches OutboxState of functions/_shared/metrics.ts). */
export interface OutboxState {
  backlogEvents: number;
  oldestUnprocessedAgeSeconds: number;
  deadLetterEvents: number;
  waitingForRetryEvents: number;
  /** An estimate, not a count: the table's live rows as the statistics know them (n_live_tup, kept up to
      date by every write within a second or so, and set by ANALYZE) minus backlog and dead letters. */
  processedEvents: number;
}

export interface DeadLetterSummary {
  id: string;
  eventType: string;
  aggregate: string;
  attempts: number;
  lastError: string | null;
  deadLetteredAt: string;
}

export interface LaneHolder {
  pid: number;
  lanes: number[];
  clientAddress: string | null;
}

export interface OutboxStatus extends OutboxState {
  laneCount: number;
  laneHolders: LaneHolder[];
  newestDeadLetters: DeadLetterSummary[];
}

export interface ConsumerStatus {
  name: string;
  /** Messages in the stream not delivered to the consumer yet. */
  pending: number;
  /** Delivered, not acknowledged yet. */
  ackPending: number;
  redelivered: number;
  waitingPulls: number;
}

export type StreamStatus =
  | { name: string; found: true; messages: number; bytes: number; firstSeq: number; lastSeq: number; consumers: ConsumerStatus[] }
  | { name: string; found: false };

/**
 * Cheap at every scrape: each count reads a partial index holding only the rows it counts (the backlog,
 * the rows waiting for a retry, the dead letters), never the published rows, which are the bulk of the
 * table; their number is estimated from the statistics instead (tests/relay/operations.test.ts checks the
 * plans).
 */
export async function readOutboxState(sql: Sql): Promise<OutboxState> {
  const [row] = await sql<OutboxState[]>`
    with counts as materialized (
      select
        (select count(*) from public.outbox_events where not processed and dead_lettered_at is null) as backlog,
        (select created_at from public.outbox_events where not processed and dead_lettered_at is null order by seq limit 1) as oldest,
        (select count(*) from public.outbox_events where dead_lettered_at is not null) as dead,
        (select count(*) from public.outbox_events
          where not processed and dead_lettered_at is null and next_attempt_at is not null and next_attempt_at > now()) as waiting,
        pg_stat_get_live_tuples('public.outbox_events'::regclass) as live_rows
    )
    select
      backlog::int as "backlogEvents",
      coalesce(extract(epoch from now() - oldest), 0)::float8 as "oldestUnprocessedAgeSeconds",
      dead::int as "deadLetterEvents",
      waiting::int as "waitingForRetryEvents",
      greatest(coalesce(live_rows, 0) - backlog - dead, 0)::int as "processedEvents"
    from counts`;
  return row!;
}

export async function readOutboxStatus(sql: Sql): Promise<OutboxStatus> {
  const state = await readOutboxState(sql);
  const [lanes] = await sql<{ count: number; lockClass: number }[]>`
    select app.outbox_lane_count() as count, app.outbox_lane_lock_class() as "lockClass"`;
  const holders = await sql<LaneHolder[]>`
    select l.pid, array_agg(l.objid::int order by l.objid) as lanes, host(a.client_addr) as "clientAddress"
    from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.classid = ${lanes!.lockClass}::oid and l.objsubid = 2 and l.granted
      and l.database = (select oid from pg_database where datname = current_database())
    group by l.pid, a.client_addr
    order by min(l.objid)`;
  const deadLetters = await sql<DeadLetterSummary[]>`
    select id, event_type as "eventType", aggregate_type || ':' || aggregate_id as aggregate, attempts,
      last_error as "lastError", to_char(dead_lettered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "deadLetteredAt"
    from public.outbox_dead_letters order by dead_lettered_at desc limit 5`;
  return { ...state, laneCount: lanes!.count, laneHolders: [...holders], newestDeadLetters: [...deadLetters] };
}

// JetStreamApiCodes.StreamNotFound; compared by number so this module needs no runtime import of the client
const STREAM_NOT_FOUND = 10059;
const isStreamNotFound = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === STREAM_NOT_FOUND;

export async function readStreamStatus(jsm: JetStreamManager, definitions: StreamDefinition[]): Promise<StreamStatus[]> {
  const streams: StreamStatus[] = [];
  for (const { name } of definitions) {
    try {
      const info = await jsm.streams.info(name);
      const consumers: ConsumerStatus[] = [];
      for await (const consumer of jsm.consumers.list(name)) {
        consumers.push({
          name: consumer.name,
          pending: consumer.num_pending,
          ackPending: consumer.num_ack_pending,
          redelivered: consumer.num_redelivered,
          waitingPulls: consumer.num_waiting,
        });
      }
      streams.push({
        name,
        found: true,
        messages: info.state.messages,
        bytes: info.state.bytes,
        firstSeq: info.state.first_seq,
        lastSeq: info.state.last_seq,
        consumers,
      });
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      streams.push({ name, found: false });
    }
  }
  return streams;
}

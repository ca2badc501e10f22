// Replay: turns published events of a time range back into unpublished ones, so the running relays publish
// them again in commit order. Within the stream's duplicate window the stream drops them (nothing changes);
// past it they are appended again and consumers skip the ids they already processed. Dead letters are
// requeued the same way, once their cause is fixed.
//
// Per-aggregate order: republishing only the range would append an aggregate's replayed events *behind* its
// later events already in the stream (or, into a recreated stream, without them). So the replay extends to
// each replayed aggregate's tail: every later published event of an aggregate with an event in the range is
// republished too, after it, and the stream again ends with that aggregate's events in commit order.
import type { TransactionSql } from 'postgres';
import type { Sql } from '../lib/postgres.ts';
import { NOTIFY_CHANNEL } from './store.ts';

export interface ReplayRange {
  since: Date;
  /** Exclusive; open-ended when absent. */
  until?: Date;
}

export interface ReplayCount {
  /** Published events written in the range. */
  inRange: number;
  /** Later published events of the same aggregates, replayed to keep each aggregate's order. */
  aggregateTails: number;
}

/** One statement, so the whole range re-enters the outbox at once and keeps its order against new events. */
export async function replayRange(sql: Sql, range: ReplayRange, options: { dryRun?: boolean } = {}): Promise<ReplayCount> {
  const since = range.since.toISOString();
  const until = range.until?.toISOString() ?? null;
  const inRange = (q: Sql | TransactionSql) =>
    q`created_at >= ${since}::timestamptz and (${until}::timestamptz is null or created_at < ${until}::timestamptz)`;
  // the published events to replay: for each aggregate with one in the range, that one and all after it
  const replayed = (q: Sql | TransactionSql) => q`
    select e.id, e.created_at >= ${since}::timestamptz and (${until}::timestamptz is null or e.created_at < ${until}::timestamptz) as in_range
    from public.outbox_events e
    join (
      select aggregate_type, aggregate_id, min(seq) as first_seq from public.outbox_events
      where processed and ${inRange(q)}
      group by aggregate_type, aggregate_id
    ) f on f.aggregate_type = e.aggregate_type and f.aggregate_id = e.aggregate_id
    where e.processed and e.seq >= f.first_seq`;
  const counts = sql`count(*) filter (where in_range)::int as "inRange", count(*) filter (where not in_range)::int as "aggregateTails"`;
  if (options.dryRun) return (await sql<ReplayCount[]>`select ${counts} from (${replayed(sql)}) r`)[0]!;
  return sql.begin(async (tx) => {
    const [result] = await tx<ReplayCount[]>`
      with r as (
        update public.outbox_events e
        set processed = false, processed_at = null, attempts = 0, last_error = null, next_attempt_at = null
        from (${replayed(tx)}) replayed
        where e.id = replayed.id
        returning replayed.in_range
      )
      select ${counts} from r`;
    await tx`select pg_notify(${NOTIFY_CHANNEL}, '')`;
    return result!;
  });
}

/** Puts dead letters (all, or the given ids) back in the outbox with fresh attempts. */
export async function requeueDeadLetters(sql: Sql, ids: readonly string[] | 'all'): Promise<number> {
  return sql.begin(async (tx) => {
    const updated =
      ids === 'all'
        ? await tx`
            update public.outbox_events set dead_lettered_at = null, attempts = 0, next_attempt_at = null
            where dead_lettered_at is not null`
        : await tx`
            update public.outbox_events set dead_lettered_at = null, attempts = 0, next_attempt_at = null
            where dead_lettered_at is not null and id = any(${`{${ids.join(',')}}`}::uuid[])`;
    await tx`select pg_notify(${NOTIFY_CHANNEL}, '')`;
    return updated.count;
  });
}

// Replay: turns published events of a time range back into unpublished ones, so the running relays publish
// them again in commit order. Within the stream's duplicate window the stream drops them (nothing changes);
// past it they are appended again and consumers skip the ids they already processed. Dead letters are
// requeued the same way, once their cause is fixed.
import type { Sql } from '../lib/postgres.ts';
import { NOTIFY_CHANNEL } from './store.ts';

export interface ReplayRange {
  since: Date;
  /** Exclusive; open-ended when absent. */
  until?: Date;
}

/** One statement, so the whole range re-enters the outbox at once and keeps its order against new events. */
export async function replayRange(sql: Sql, range: ReplayRange, options: { dryRun?: boolean } = {}): Promise<number> {
  const until = range.until?.toISOString() ?? null;
  if (options.dryRun) {
    const [row] = await sql<{ count: number }[]>`
      select count(*)::int as count from public.outbox_events
      where processed and created_at >= ${range.since.toISOString()}::timestamptz
        and (${until}::timestamptz is null or created_at < ${until}::timestamptz)`;
    return row!.count;
  }
  return sql.begin(async (tx) => {
    const updated = await tx`
      update public.outbox_events
      set processed = false, processed_at = null, attempts = 0, last_error = null, next_attempt_at = null
      where processed and created_at >= ${range.since.toISOString()}::timestamptz
        and (${until}::timestamptz is null or created_at < ${until}::timestamptz)`;
    await tx`select pg_notify(${NOTIFY_CHANNEL}, '')`;
    return updated.count;
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

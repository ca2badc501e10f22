// Retention: published outbox rows older than a window are deleted in small batches — each batch its own
// short statement that skips rows someone else has locked — so no long lock is held and autovacuum keeps up.
import type { Sql } from '../lib/postgres.ts';

export interface PruneOptions {
  olderThanHours: number;
  /** Rows per delete statement (default 1000). */
  batchSize?: number;
  /** Pause between batches, giving other work and autovacuum room (default 20 ms). */
  pauseMs?: number;
  shouldStop?: () => boolean;
  /** Called after each delete statement with the rows it deleted (progress reports). */
  onBatch?: (deleted: number) => void;
}

/** Deletes processed rows with processed_at older than the window; returns how many. Dead letters stay. */
export async function pruneProcessedEvents(sql: Sql, options: PruneOptions): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  let total = 0;
  for (;;) {
    const deleted = await sql`
      delete from public.outbox_events
      where id in (
        select id from public.outbox_events
        where processed and processed_at < now() - ${options.olderThanHours} * interval '1 hour'
        order by processed_at
        limit ${batchSize}
        for update skip locked
      )`;
    total += deleted.count;
    options.onBatch?.(deleted.count);
    if (deleted.count < batchSize || options.shouldStop?.()) return total;
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 20));
  }
}

/** How many processed rows the window would delete now (for --dry-run). */
export async function countPrunable(sql: Sql, olderThanHours: number): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    select count(*)::int as count from public.outbox_events
    where processed and processed_at < now() - ${olderThanHours} * interval '1 hour'`;
  return row!.count;
}

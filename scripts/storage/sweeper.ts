// Finds and removes orphans in both directions between the files table and the bucket:
// - objects with no live file row (no row at all, a deleted or rejected file, or an upload that expired
//   unconfirmed) are deleted once older than the grace period (an upload in flight has a pending row already);
// - stored file rows whose object is gone are reported (dangling: the row cannot go back to pending, a person
//   decides; the list names them).
// Runs with service-role rights (all teams). `npm run storage:sweep [-- --apply]`; without --apply it only reports.
import type { ObjectStore } from '../../functions/_shared/object-store.ts';
import { withServiceRole, type Sql } from '../../functions/_shared/db.ts';

export interface SweepReport {
  objectsSeen: number;
  /** Objects with no live row, deleted when `apply`. */
  orphanObjects: string[];
  /** Stored, live rows whose object is missing. */
  danglingFiles: string[];
  deleted: number;
}

export async function sweepStorage(sql: Sql, store: ObjectStore, options: { apply: boolean; graceMs: number }): Promise<SweepReport> {
  const rows = await withServiceRole(
    sql,
    (tx) => tx<{ id: string; object_key: string; live: boolean; stored: boolean }[]>`
      select id, object_key,
        deleted_at is null and (status = 'stored' or (status = 'pending' and upload_expires_at > now())) as live,
        deleted_at is null and status = 'stored' as stored
      from public.files where bucket = ${store.bucket}`,
  );
  const byKey = new Map(rows.map((row) => [row.object_key, row]));
  const seen = new Set<string>();
  const report: SweepReport = { objectsSeen: 0, orphanObjects: [], danglingFiles: [], deleted: 0 };
  const cutoff = Date.now() - options.graceMs;
  for await (const object of store.list()) {
    report.objectsSeen += 1;
    seen.add(object.key);
    if (byKey.get(object.key)?.live) continue;
    // a row written after the listing above, or an upload racing its request: leave young objects alone
    if (object.lastModified.getTime() > cutoff) continue;
    report.orphanObjects.push(object.key);
    if (options.apply) {
      await store.delete(object.key);
      report.deleted += 1;
    }
  }
  report.danglingFiles = rows.filter((row) => row.stored && !seen.has(row.object_key)).map((row) => row.id);
  return report;
}

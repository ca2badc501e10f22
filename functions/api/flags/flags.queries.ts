// SQL of the flags domain. Reads come from the in-memory flag store (functions/_shared/flags/store.ts); the
// one write runs as the signed-in platform admin through app.put_feature_flag, which audits and notifies.
import type { Tx } from '../../_shared/db.ts';
import type { FlagDefinition } from '../../_shared/flags/definition.ts';

/** Creates or replaces a flag; the new version, or null (nothing written) when expectedVersion is stale. */
export async function putFlag(
  tx: Tx,
  key: string,
  definition: FlagDefinition,
  expectedVersion: number | null,
  requestId: string,
): Promise<number | null> {
  const [row] = await tx<{ version: string | null }[]>`
    select app.put_feature_flag(${key}, ${tx.json(definition as never)}, ${expectedVersion}::int8, ${requestId})::text as version`;
  return row!.version === null ? null : Number(row!.version);
}

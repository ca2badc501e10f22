// The flags of one process, kept in memory: loaded from public.feature_flags, reloaded on every NOTIFY on
// channel `feature_flags` (app.put_feature_flag sends one per change) and again when the LISTEN connection
// comes back (a change made while it was down is not missed), with a slow periodic reload as a last resort.
// Evaluation never waits on the database once the first load is done.
import type { Sql } from '../db.ts';
import { withServiceRole } from '../db.ts';
import type { Logger } from '../log.ts';
import { FlagDefinitionSchema, type StoredFlag } from './definition.ts';
import { evaluateFlag, type FlagContext, type FlagEvaluation } from './evaluate.ts';

export const FLAGS_CHANNEL = 'feature_flags';
const SAFETY_RELOAD_MS = 30_000;

export interface FlagStore {
  /** Loads the flags and starts listening; resolves once the first load is done. Idempotent. */
  ready(): Promise<void>;
  /** The flags as last loaded (empty before ready). */
  flags(): ReadonlyMap<string, StoredFlag>;
  /** Evaluates a flag; an unknown flag is undefined (the caller's default applies). */
  evaluate(key: string, context: Omit<FlagContext, 'environment'>): FlagEvaluation | undefined;
  /** Called after each reload that changed something, with the keys that changed. */
  onChange(listener: (changed: string[]) => void): () => void;
  close(): Promise<void>;
}

/** Every flag as stored now (admin views read this, not the in-memory copy, which follows a change by a NOTIFY). */
export async function loadFlags(sql: Sql): Promise<Map<string, StoredFlag>> {
  const rows = await withServiceRole(
    sql,
    (tx) => tx<(StoredFlag & { version: string })[]>`
      select key, description, kind, enabled, variants, default_value, rules, version::text as version,
        updated_at, updated_by
      from public.feature_flags`,
  );
  const flags = new Map<string, StoredFlag>();
  for (const row of rows) {
    // a row written by hand that the schema refuses is served as missing (the caller's default), not half-read
    const parsed = FlagDefinitionSchema.safeParse({
      description: row.description,
      kind: row.kind,
      enabled: row.enabled,
      variants: row.variants,
      default_value: row.default_value,
      rules: row.rules,
    });
    if (parsed.success) {
      flags.set(row.key, {
        ...parsed.data,
        key: row.key,
        version: Number(row.version),
        updated_at: String(row.updated_at),
        updated_by: row.updated_by,
      });
    }
  }
  return flags;
}

export function createFlagStore(sql: Sql, options: { environment: string; logger: Logger }): FlagStore {
  const { environment, logger } = options;
  let flags = new Map<string, StoredFlag>();
  const listeners = new Set<(changed: string[]) => void>();
  let started: Promise<void> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let closed = false;

  const reload = async () => {
    if (closed) return;
    try {
      const next = await loadFlags(sql);
      const changed = [...new Set([...flags.keys(), ...next.keys()])].filter((key) => flags.get(key)?.version !== next.get(key)?.version);
      flags = next;
      if (changed.length) for (const listener of listeners) listener(changed);
    } catch (error) {
      // keep serving what was loaded; the next notification or the periodic reload tries again
      logger.warn('feature flags could not be reloaded', { error: error instanceof Error ? error.message : String(error) });
    }
  };

  const start = async () => {
    flags = await loadFlags(sql);
    // onlisten runs on every (re)connection of the LISTEN connection: reload then, as changes may have been missed
    const subscription = await sql.listen(
      FLAGS_CHANNEL,
      () => void reload(),
      () => void reload(),
    );
    unlisten = () => subscription.unlisten();
    timer = setInterval(() => void reload(), SAFETY_RELOAD_MS);
    // a timer must not keep a worker or a test process alive
    (timer as { unref?: () => void }).unref?.();
  };

  return {
    ready() {
      started ??= start().catch((error) => {
        started = null;
        throw error;
      });
      return started;
    },
    flags: () => flags,
    evaluate(key, context) {
      const flag = flags.get(key);
      return flag ? evaluateFlag(key, flag, { ...context, environment }) : undefined;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await unlisten?.().catch(() => undefined);
    },
  };
}

// Postgres connections of a Node worker, from the platform config. Workers need what request handlers do
// not: a session that lives as long as the process (advisory locks and LISTEN belong to a session), so the
// pooling options differ from functions/_shared/db.ts; where and how to connect comes from there.
import postgres from 'postgres';
import { baseConnectionOptions, type DatabaseSettings } from '../../functions/_shared/db.ts';
import { registerDependency } from './readiness.ts';

export type Sql = postgres.Sql;

export interface WorkerDatabaseOptions {
  /** Shown in pg_stat_activity; the relay also counts its peers by it. */
  applicationName: string;
  /** Pool size (default DB_POOL_MAX). */
  max?: number;
  /**
   * One long-lived session (max 1, never recycled for idleness or age): for advisory locks and LISTEN,
   * which a pooler in transaction mode would break — point such a worker at a direct or session-mode port.
   */
  session?: boolean;
  /** Called for every NOTIFY the session receives (LISTEN is issued by the caller). */
  onNotify?: (channel: string, payload: string) => void;
  /**
   * Server-side prepared statements: saves planning on every repeated statement. Only on a direct or
   * session-mode connection (a transaction-mode pooler cannot keep them); off by default.
   */
  prepare?: boolean;
  /** Commits return before the WAL is flushed: for writes that are safe to lose in a crash (idempotent
      bookkeeping such as marking published events, which are republished and deduplicated). */
  asynchronousCommit?: boolean;
}

export function connectWorkerDatabase(settings: DatabaseSettings, options: WorkerDatabaseOptions): Sql {
  // onnotify is what postgres.js' own listen() uses; its typings leave it out
  const connectionOptions: postgres.Options<Record<string, never>> & { onnotify?: WorkerDatabaseOptions['onNotify'] } = {
    ...baseConnectionOptions(settings),
    max: options.session ? 1 : (options.max ?? settings.DB_POOL_MAX),
    prepare: options.prepare ?? false,
    ...(options.session ? { max_lifetime: null } : { idle_timeout: 60 }),
    onnotify: options.onNotify,
    connection: {
      application_name: options.applicationName,
      ...(options.asynchronousCommit ? { synchronous_commit: 'off' } : {}),
    },
  };
  const sql = postgres(connectionOptions);
  // ready while the pool answers a trivial query; ending the pool takes it out of the readiness checks
  const unregister = registerDependency(`postgres ${options.applicationName}`, () => sql`select 1`.execute());
  const end = sql.end.bind(sql);
  sql.end = (endOptions) => {
    unregister();
    return end(endOptions);
  };
  return sql;
}

// Node socket errors and postgres.js' own connection errors: the server could not be reached or went away
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);
// SQLSTATEs of a database that is restarting, shutting down, refusing connections or out of them, and
// statements cancelled by a timeout or an operator
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/**
 * Whether an error says the database is unreachable or not answering (connection refused or cut, server
 * shutting down or starting, class 08 connection exceptions, timeouts) rather than that a statement was
 * wrong. A worker waits such errors out instead of counting them against the message it was handling.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
    return true;
  }
  // connecting to a name with several addresses fails with one error per address
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.length > 0 && inner.every(isDatabaseUnavailable);
}

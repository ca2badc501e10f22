// Postgres access for request handlers, and the ONE place that switches roles: a user request runs in a
// single transaction as `authenticated` with the caller's JWT claims, exactly as PostgREST does it, so
// row-level security decides what the request can see and change even if a handler forgets a check.
import postgres from 'postgres';
import type { Config } from './config.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** Claims set for the transaction; `auth.uid()`/`auth.jwt()` read them. */
export interface TransactionClaims {
  sub: string;
  role: 'authenticated';
  [claim: string]: unknown;
}

const TIMESTAMPTZ_OID = 1184;
const POSTGRES_TIMESTAMP = /^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)([+-]\d{2})(?::(\d{2}))?(?::\d{2})?$/;

/**
 * Postgres text of a timestamptz ("2026-11-27 14:05:00.123456+00") as ISO 8601 ("2026-11-27T14:05:00.123456Z"),
 * keeping the microseconds a JS Date would drop: cursors compare exact row timestamps.
 */
export function isoTimestamp(text: string): string {
  const match = POSTGRES_TIMESTAMP.exec(text);
  if (!match) return text; // infinity or a BC date: leave Postgres' spelling
  const [, date, time, hours, minutes = '00'] = match;
  const offset = hours === '+00' && minutes === '00' ? 'Z' : `${hours}:${minutes}`;
  return `${date}T${time}${offset}`;
}

export type DatabaseSettings = Pick<Config, 'DB_HOST' | 'DB_PORT' | 'DB_NAME' | 'DB_USER' | 'DB_PASSWORD' | 'DB_SSLMODE' | 'DB_POOL_MAX'>;

/** Where and how to connect, from the settings: shared with the workers' connections (workers/lib/postgres.ts),
    which differ from the gateway's pool only in pooling and session options. */
export function baseConnectionOptions(settings: DatabaseSettings) {
  return {
    host: settings.DB_HOST,
    port: settings.DB_PORT,
    database: settings.DB_NAME,
    username: settings.DB_USER,
    password: settings.DB_PASSWORD,
    ssl: settings.DB_SSLMODE === 'disable' ? false : settings.DB_SSLMODE,
    connect_timeout: 10,
    onnotice: () => {},
  };
}

/** The statement postgres.js sends on every new session to learn the array types (connection.js, fetchArrayTypes). */
const ARRAY_TYPE_FETCH = /^\s*select b\.oid, b\.typarray\b/;

/**
 * postgres.js 3.4.9 fetches the array types in a promise nobody awaits, so a session that ends during that
 * fetch (terminated, failed over, reset) is an unhandled rejection, which ends the process under Node and
 * Deno alike. Only that rejection is recognised here; any other keeps the runtime's default.
 */
export const isArrayTypeFetchFailure = (reason: unknown): boolean => {
  const { query, code } = (reason ?? {}) as { query?: unknown; code?: unknown };
  return typeof query === 'string' && ARRAY_TYPE_FETCH.test(query) && typeof code === 'string' && /^(CONNECTION_|57P0)/.test(code);
};

let arrayTypeFetchFailuresHandled = false;

/** Handles the array-type fetch's failures once per process (every pool shares the one handler). */
function handleArrayTypeFetchFailures(): void {
  if (arrayTypeFetchFailuresHandled) return;
  arrayTypeFetchFailuresHandled = true;
  const runtime = globalThis as {
    Deno?: unknown;
    addEventListener?: (type: string, listener: (event: { reason: unknown; preventDefault(): void }) => void) => void;
    process?: { on(event: string, listener: (reason: unknown) => void): void };
  };
  if (runtime.Deno !== undefined && runtime.addEventListener) {
    runtime.addEventListener('unhandledrejection', (event) => {
      if (isArrayTypeFetchFailure(event.reason)) event.preventDefault();
    });
  } else {
    // with a listener Node no longer throws unhandled rejections itself: everything but the type fetch is
    // thrown again, which ends the process as before
    runtime.process?.on('unhandledRejection', (reason) => {
      if (!isArrayTypeFetchFailure(reason)) throw reason;
    });
  }
}

/** A connection pool: `prepare: false` so it works behind Supavisor in transaction mode; timestamps as ISO strings. */
export function createDatabase(settings: DatabaseSettings, options: { applicationName?: string } = {}): Sql {
  handleArrayTypeFetchFailures();
  return postgres({
    ...baseConnectionOptions(settings),
    max: settings.DB_POOL_MAX,
    prepare: false,
    idle_timeout: 60,
    connection: { application_name: options.applicationName ?? 'microdao-api' },
    types: {
      // replaces postgres.js' Date parser for timestamptz only (date and timestamp keep theirs)
      timestamptz: {
        to: TIMESTAMPTZ_OID,
        from: [TIMESTAMPTZ_OID],
        serialize: (value: Date | string) => (value instanceof Date ? value.toISOString() : value),
        parse: isoTimestamp,
      },
    },
  }) as unknown as Sql;
}

/** How long a statement may run, and a transaction sit idle, before Postgres ends it (DB_*_TIMEOUT_MS). */
export interface TransactionLimits {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

export const DEFAULT_TRANSACTION_LIMITS: TransactionLimits = { statementTimeoutMs: 5000, idleInTransactionTimeoutMs: 10000 };

/** The limits of a configuration. */
export const transactionLimits = (
  config: Pick<Config, 'DB_STATEMENT_TIMEOUT_MS' | 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'>,
): TransactionLimits => ({
  statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
});

/** A statement cancelled by statement_timeout (57014 is also a cancel on request, which says so differently). */
export const isStatementTimeout = (error: unknown): boolean =>
  (error as { code?: unknown }).code === '57014' && /statement timeout/i.test((error as { message?: unknown }).message as string);

/**
 * Runs `work` in one transaction as `authenticated` with `claims` as `request.jwt.claims`, both local to the
 * transaction. `set_config('role', …, true)` is `SET LOCAL ROLE` (PostgREST's spelling) and lets both settings
 * travel in one statement, together with the transaction's statement and idle timeouts (local too, so they hold
 * behind Supavisor's transaction mode, where session settings would leak to other clients). Unlike sql.begin(),
 * which waits for `begin` to complete before sending anything else, `begin` (no parameters) goes out in the same
 * write as that statement: one round trip fewer on every request, which is most of a request's cost on a busy
 * machine.
 *
 * A connection the server closes mid-transaction (idle_in_transaction_session_timeout, a failover, a pooler
 * restart) must see no further query: postgres.js 3.4.9 throws an uncaught TypeError, which ends the process,
 * when a query is written to a reserved connection whose socket is gone (porsager/postgres#1208). So the
 * transaction listens for the close the way sql.begin() does (the `onexecute` hook of its `begin` gives the
 * connection, whose `onclose` the pool calls), then rejects with CONNECTION_CLOSED, refuses the work's later
 * queries, and neither rolls back nor releases the dead connection (the pool has already taken it back).
 * "Later" is when postgres.js would send a query, not when the work made it (see guardClosedConnection): no
 * statement of the work can reach the session the pool opens next on the same connection, where it would run
 * as the login role without claims (functions/_shared/README.md, tests/api/transaction-escape.test.ts).
 */
export function withUserTransaction<T>(
  sql: Sql,
  claims: TransactionClaims,
  work: (tx: Tx) => Promise<T>,
  limits: TransactionLimits = DEFAULT_TRANSACTION_LIMITS,
): Promise<T> {
  return withRoleTransaction(sql, 'authenticated', claims, work, limits);
}

/** Claims of service-role work: no user, so auth.uid() is null and RLS does not apply (service_role bypasses it). */
const SERVICE_ROLE_CLAIMS = { role: 'service_role' } as const;

/**
 * Runs `work` in one transaction as service_role, within the same timeouts and guards as a user transaction.
 * Explicit and rare: the admin console's cross-team reads and access-key lookups, never a user's request.
 */
export function withServiceRole<T>(
  sql: Sql,
  work: (tx: Tx) => Promise<T>,
  limits: TransactionLimits = DEFAULT_TRANSACTION_LIMITS,
): Promise<T> {
  return withRoleTransaction(sql, 'service_role', SERVICE_ROLE_CLAIMS, work, limits);
}

/** How long postgres.js may take to open a session (its connect_timeout, baseConnectionOptions). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Past the statement timeout, how long a statement may stay unanswered before its connection counts as wedged. */
const WEDGED_MARGIN_MS = 5_000;

/**
 * A reserved connection, or CONNECT_TIMEOUT (a 503) once `withinMs` have passed: postgres.js 3.4.9 can drop a
 * waiting reservation for good when the session opened for it is terminated while it fetches the array types.
 * A reservation granted after the deadline goes straight back to the pool.
 */
async function reserveWithin(sql: Sql, withinMs: number): Promise<postgres.ReservedSql> {
  const reserving = sql.reserve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no database connection within ${withinMs} ms`), { code: 'CONNECT_TIMEOUT' })),
      withinMs,
    );
  });
  try {
    return await Promise.race([reserving, late]);
  } catch (error) {
    reserving.then(
      (connection) => connection.release(),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function withRoleTransaction<T>(
  sql: Sql,
  role: 'authenticated' | 'service_role',
  claims: Record<string, unknown>,
  work: (tx: Tx) => Promise<T>,
  limits: TransactionLimits,
): Promise<T> {
  const connection = await reserveWithin(sql, limits.statementTimeoutMs + CONNECT_TIMEOUT_MS);
  let closedBy: Error | undefined;
  // postgres.js 3.4.9 can lose track of a statement after a session was terminated (a reply that never comes,
  // e.g. a statement left in a reserved connection's own queue, porsager/postgres#1186): one unanswered well past
  // the server's own statement timeout means the connection is wedged on our side. The transaction then fails
  // as if the connection had closed (a 503, not a hang) and the connection is destroyed; the pool may still have
  // lost that slot (functions/_shared/README.md)
  let driverConnection: { terminate?: () => void } | undefined;
  const wedgedAfterMs = limits.statementTimeoutMs + WEDGED_MARGIN_MS;
  const wedged = () => {
    if (closedBy) return;
    onClosed(Object.assign(new Error(`no answer from the database within ${wedgedAfterMs} ms`), { code: 'CONNECTION_DESTROYED' }));
    driverConnection?.terminate?.();
  };
  const watch = (settled: PromiseLike<unknown>) => {
    const timer = setTimeout(wedged, wedgedAfterMs);
    const disarm = () => clearTimeout(timer);
    settled.then(disarm, disarm);
  };
  let onClosed: (error: Error) => void = () => undefined;
  const closing = new Promise<never>((_, reject) => {
    onClosed = (error) => {
      closedBy = error;
      guarded.onClosed(error);
      reject(error);
    };
  });
  closing.catch(() => undefined); // observed through closedBy and the race below
  let watching = false;
  const watchClose = (internal: { onclose?: (error: Error) => void; terminate?: () => void }) => {
    internal.onclose = onClosed;
    driverConnection = internal;
    watching = true;
    return true; // keep pipelining: the claims statement goes out right behind `begin`
  };
  const guarded = guardClosedConnection(connection, () => closedBy, watch);
  try {
    const opening = Promise.all([
      connection.unsafe('begin', [], { simple: false, onexecute: watchClose } as postgres.UnsafeQueryOptions).execute(),
      connection`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true), set_config('role', ${role}, true),
          set_config('statement_timeout', ${`${limits.statementTimeoutMs}ms`}, true),
          set_config('idle_in_transaction_session_timeout', ${`${limits.idleInTransactionTimeoutMs}ms`}, true)`,
    ]);
    watch(opening);
    await Promise.race([opening, closing]);
    // postgres.js calls onexecute only when `begin` went out without backpressure; unwatched, a close would go unseen
    if (!watching) throw new Error('the transaction could not watch its connection for a close; not running the work');
    // a reserved connection inside begin/commit is a transaction in all but savepoints, which no query uses
    const result = await Promise.race([work(guarded.tx), closing]);
    await Promise.race([guarded.tx`commit`, closing]);
    return result;
  } catch (error) {
    // a failed statement already aborted the transaction; a broken connection has nothing left to roll back
    if (!closedBy) {
      const rollingBack = connection`rollback`;
      watch(rollingBack);
      await rollingBack.catch(() => undefined);
    }
    throw closedBy ?? error;
  } finally {
    if (!closedBy) connection.release();
  }
}

/** What postgres.js keeps on each query: the function that hands it to a connection, called when the query is
    first awaited (not when it is made), and its settle functions. */
interface QueryInternals {
  handler: ((query: QueryInternals) => unknown) & { debug?: unknown };
  reject: (error: Error) => void;
  then: PromiseLike<unknown>['then'];
}

/**
 * `tx` for the work. Every query it makes checks, at the moment postgres.js hands it to the connection (the
 * query's first await, which can come long after it was made), that the transaction's session is still alive;
 * after a close it is rejected with `closedBy()` instead of being written. The pool reconnects the same
 * connection object for other callers, so a query let through after the close would run on a fresh session as
 * the login role with no claims, past RLS (porsager/postgres#1155, #1215). The close is observed synchronously
 * with postgres.js dropping the socket (its onclose), so a query that passes the check goes to the transaction's
 * own session or fails with it. Queries already handed over but not settled when the connection dies are
 * rejected too: postgres.js never settles those waiting in a reserved connection's queue (porsager/postgres#1186).
 * `tx.file()` is refused: it reads the file between the check and the write.
 */
function guardClosedConnection(
  connection: postgres.ReservedSql,
  closedBy: () => Error | undefined,
  watch: (settled: PromiseLike<unknown>) => void,
): { tx: Tx; onClosed(error: Error): void } {
  const handedOver = new Set<QueryInternals>();
  const guard = <Q>(made: Q): Q => {
    const query = made as unknown as QueryInternals;
    if (typeof query?.handler !== 'function') return made; // an identifier or a fragment builder, never sent alone
    const handOver = query.handler;
    const checked: QueryInternals['handler'] = (target) => {
      const error = closedBy();
      if (error) return target.reject(error);
      handedOver.add(target);
      const forget = () => handedOver.delete(target);
      target.then(forget, forget);
      watch(target);
      return handOver(target);
    };
    checked.debug = handOver.debug;
    query.handler = checked;
    return made;
  };
  const refuseIfClosed = <F extends (...args: never[]) => unknown>(run: F) =>
    ((...args: Parameters<F>) => {
      const error = closedBy();
      return error ? Promise.reject(error) : guard(run(...args));
    }) as F;
  const tx = new Proxy(connection, {
    apply: (target, thisArg, args) => {
      const error = closedBy();
      return error ? Promise.reject(error) : guard(Reflect.apply(target, thisArg, args));
    },
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver);
      if (property === 'file')
        return () =>
          Promise.reject(new Error('tx.file() is not available in a guarded transaction: read the file first, then use tx.unsafe()'));
      return property === 'unsafe' ? refuseIfClosed(value as (...args: never[]) => unknown) : value;
    },
  }) as unknown as Tx;
  return {
    tx,
    onClosed(error) {
      for (const query of handedOver) query.reject(error);
      handedOver.clear();
    },
  };
}

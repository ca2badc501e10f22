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

type DatabaseSettings = Pick<Config, 'DB_HOST' | 'DB_PORT' | 'DB_NAME' | 'DB_USER' | 'DB_PASSWORD' | 'DB_SSLMODE' | 'DB_POOL_MAX'>;

/** A connection pool: `prepare: false` so it works behind Supavisor in transaction mode; timestamps as ISO strings. */
export function createDatabase(settings: DatabaseSettings, options: { applicationName?: string } = {}): Sql {
  return postgres({
    host: settings.DB_HOST,
    port: settings.DB_PORT,
    database: settings.DB_NAME,
    username: settings.DB_USER,
    password: settings.DB_PASSWORD,
    ssl: settings.DB_SSLMODE === 'disable' ? false : settings.DB_SSLMODE,
    max: settings.DB_POOL_MAX,
    prepare: false,
    connect_timeout: 10,
    idle_timeout: 60,
    onnotice: () => {},
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

/**
 * Runs `work` in one transaction as `authenticated` with `claims` as `request.jwt.claims`, both local to the
 * transaction. `set_config('role', …, true)` is `SET LOCAL ROLE` (PostgREST's spelling) and lets both settings
 * travel in one statement.
 */
export async function withUserTransaction<T>(sql: Sql, claims: TransactionClaims, work: (tx: Tx) => Promise<T>): Promise<T> {
  return (await sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true), set_config('role', 'authenticated', true)`;
    return work(tx);
  })) as T;
}

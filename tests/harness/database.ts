// Fresh databases for tests: each is a copy of the run's template (bootstrap + every migration, applied
// once by the real Supabase CLI in global-setup.ts), so a test file starts from a clean, migrated schema.
import postgres from 'postgres';
import { withUserTransaction } from '../../functions/_shared/db.ts';
import { databaseUrlFor, testServices, uniqueName } from './services.ts';

export type Sql = postgres.Sql;

export interface TestDatabase {
  name: string;
  url: string;
  /** Superuser connection (bypasses RLS): for arranging data and asserting on it. */
  sql: Sql;
  drop(): Promise<void>;
}

export const TEMPLATE_DATABASE_ENV = 'MICRODAO_TEST_TEMPLATE_DB';

/** The DB_* variables (functions/_shared/config.ts) that point a gateway or worker process at `database`. */
export function databaseVariables(database: Pick<TestDatabase, 'name' | 'url'>): Record<string, string> {
  const url = new URL(database.url);
  return {
    DB_HOST: url.hostname,
    DB_PORT: url.port || '5432',
    DB_NAME: database.name,
    DB_USER: decodeURIComponent(url.username) || 'postgres',
    DB_PASSWORD: decodeURIComponent(url.password),
  };
}

export function adminConnection(): Sql {
  return postgres(testServices.postgresAdminUrl, { max: 1, prepare: false, onnotice: () => {} });
}

/** Creates a database from the migrated template; `drop()` removes it (call it in afterAll). */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const template = process.env[TEMPLATE_DATABASE_ENV];
  if (!template) throw new Error(`${TEMPLATE_DATABASE_ENV} is not set: run tests through vitest (global-setup.ts creates the template)`);
  const name = uniqueName(`mdao_t_${label}`);
  const admin = adminConnection();
  try {
    await cloneWithRetry(admin, name, template);
  } finally {
    await admin.end();
  }
  const url = databaseUrlFor(name);
  const sql = postgres(url, { max: 4, prepare: false, onnotice: () => {} });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await dropDatabase(name);
    },
  };
}

// Another worker cloning the same template at the same instant makes Postgres refuse with 55006.
async function cloneWithRetry(admin: Sql, name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.unsafe(`create database "${name}" template "${template}"`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== '55006' || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
    }
  }
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = adminConnection();
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}

/** Loads supabase/seed.sql (demo team, Alice and Bob, #general) into a test database. */
export async function loadSeed(sql: Sql): Promise<void> {
  await sql.file(new URL('../../supabase/seed.sql', import.meta.url).pathname);
}

/** The seed's fixed ids, for tests that use the demo data. */
export const seedIds = {
  alice: '00000000-0000-4000-8000-00000000a11c',
  bob: '00000000-0000-4000-8000-000000000b0b',
  demoTeam: '00000000-0000-4000-8000-0000000d3a00',
  generalChannel: '00000000-0000-4000-8000-0000000c4a01',
  welcomeMessage: '00000000-0000-4000-8000-00000000e550',
} as const;

/**
 * Runs `work` the way the gateway runs a user request: one transaction with the caller's JWT claims set
 * locally and the role switched to `authenticated` (or `anon` when claims is null), so RLS applies.
 */
export async function asUser<T>(sql: Sql, userId: string | null, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  if (userId) return withUserTransaction(sql, { sub: userId, role: 'authenticated', aud: 'authenticated' }, work);
  // anonymous: what a Data API left on would run for a caller without a session
  return (await sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('role', 'anon', true)`;
    return work(tx);
  })) as T;
}

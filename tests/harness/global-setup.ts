// Vitest global setup: one migrated template database per run (through scripts/migrate.sh, i.e. the real
// Supabase CLI), cloned by each test file; everything the run created is dropped at the end.
import { execFileSync } from 'node:child_process';
import postgres from 'postgres';
import { databaseUrlFor, testServices } from './services.ts';
import { TEMPLATE_DATABASE_ENV } from './database.ts';

const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

export default async function setup(): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6).padEnd(4, '0')}`;
  process.env.MICRODAO_TEST_RUN_ID = runId;
  const template = `mdao_t_${runId}_template`;
  process.env[TEMPLATE_DATABASE_ENV] = template;

  const admin = postgres(testServices.postgresAdminUrl, { max: 1, prepare: false, onnotice: () => {} });
  await dropStaleTestDatabases(admin);
  await admin.unsafe(`create database "${template}"`);
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrlFor(template)], { stdio: ['ignore', 'ignore', 'pipe'] });

  return async () => {
    const mine = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`mdao_t_%${runId}%`}`;
    for (const { datname } of mine) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
  };
}

// Databases of runs that crashed before their teardown: names carry the run's start time in base 36.
async function dropStaleTestDatabases(admin: postgres.Sql): Promise<void> {
  const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like 'mdao_t_%'`;
  for (const { datname } of rows) {
    const match = /_([0-9a-z]{8})[0-9a-z]{4}(_|$)/.exec(datname);
    const startedAt = match ? parseInt(match[1]!, 36) : NaN;
    if (Number.isFinite(startedAt) && Date.now() - startedAt > STALE_AFTER_MS) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    }
  }
}

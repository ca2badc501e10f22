// Runs the pgTAP files in supabase/tests with pg_prove against a fresh database migrated by the real
// Supabase CLI (supabase test db would need Docker), then drops it. Exit code is pg_prove's.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import postgres from 'postgres';
import { databaseUrlFor, testServices } from './services.ts';

const database = `mdao_pgtap_${Date.now().toString(36)}`;
const admin = postgres(testServices.postgresAdminUrl, { max: 1, onnotice: () => {} });
let status: number;
try {
  await admin.unsafe(`create database "${database}"`);
  const url = databaseUrlFor(database);
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', url], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('psql', [url, '-X', '-q', '-c', 'create extension if not exists pgtap'], { stdio: 'inherit' });
  const files = readdirSync('supabase/tests')
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => `supabase/tests/${f}`);
  const { hostname, port, username } = new URL(url);
  const prove = spawnSync(
    'pg_prove',
    ['--host', hostname, '--port', port || '5432', '--username', username || 'postgres', '--dbname', database, '--verbose', ...files],
    {
      stdio: 'inherit',
    },
  );
  if (prove.error) console.error(`pgtap: could not run pg_prove (${prove.error.message}); install libtap-parser-sourcehandler-pgtap-perl`);
  status = prove.status ?? 1;
} finally {
  await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.end();
}
process.exit(status);

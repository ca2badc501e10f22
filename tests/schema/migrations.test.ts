// scripts/migrate.sh end to end, on fresh databases of the real server and the real Supabase CLI:
// idempotent up, a ledger in sync, up → down → up with no schema drift, and bad input leaving no trace.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { adminConnection, dropDatabase } from '../harness/database.ts';
import { databaseUrlFor, uniqueName } from '../harness/services.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const migrationFiles = readdirSync(path.join(ROOT, 'supabase/migrations')).filter((f) => f.endsWith('.sql'));
const created: string[] = [];

async function emptyDatabase(): Promise<string> {
  const name = uniqueName('mdao_t_mig');
  const admin = adminConnection();
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  created.push(name);
  return name;
}

async function migrate(database: string, args: string[], cwd = ROOT) {
  try {
    const { stdout, stderr } = await run('bash', ['scripts/migrate.sh', ...args, '--db-url', databaseUrlFor(database)], { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function schemaDump(database: string, { withLedger = true } = {}): Promise<string> {
  const ledgerFilter = withLedger ? [] : ['--exclude-schema=supabase_migrations'];
  const { stdout } = await run('pg_dump', ['--schema-only', '--no-owner', ...ledgerFilter, databaseUrlFor(database)]);
  // pg_dump prints its own version and a random \restrict key (15.14+); neither is schema.
  return stdout.replace(/^\\(un)?restrict .*$/gm, '').replace(/^-- Dumped (from|by) .*$/gm, '');
}

async function ledger(database: string): Promise<string[]> {
  const { stdout } = await run('psql', [
    databaseUrlFor(database),
    '-XtAc',
    'select version from supabase_migrations.schema_migrations order by 1',
  ]);
  return stdout.split('\n').filter(Boolean);
}

/** A copy of the repo's migration tooling with one extra migration, for testing a failure halfway. */
function toolingWithExtraMigration(fileName: string, sql: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdao-migrate-'));
  for (const part of ['scripts', 'functions/_shared', 'supabase/bootstrap', 'supabase/migrations', 'supabase/rollbacks']) {
    cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  }
  cpSync(path.join(ROOT, 'supabase/seed.sql'), path.join(dir, 'supabase/seed.sql'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'supabase/migrations', fileName), sql);
  return dir;
}

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

// each case runs the real CLI over every migration, several times; on a shared 2-core machine that takes a minute
describe('scripts/migrate.sh', { timeout: 180_000 }, () => {
  it('applies every migration once; a second up is a no-op with an identical schema and ledger', async () => {
    const db = await emptyDatabase();
    const first = await migrate(db, ['up']);
    expect(first.code, first.output).toBe(0);
    expect(await ledger(db)).toEqual(migrationFiles.map((f) => f.split('_')[0]));
    const before = await schemaDump(db);

    const second = await migrate(db, ['up']);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/up to date/i);
    expect(await schemaDump(db)).toBe(before);
    expect(await ledger(db)).toEqual(migrationFiles.map((f) => f.split('_')[0]));
  });

  it('shows local and remote in sync in `supabase migration list`', async () => {
    const db = await emptyDatabase();
    await migrate(db, ['up']);
    const status = await migrate(db, ['status']);
    expect(status.code, status.output).toBe(0);
    for (const file of migrationFiles) {
      const version = file.split('_')[0]!;
      expect(status.output).toMatch(new RegExp(`\`${version}\`\\s*\\|\\s*\`${version}\``));
    }
  });

  it('goes up → all the way down → up again with an empty schema diff, and down leaves only the bootstrap', async () => {
    const bootstrapOnly = await emptyDatabase();
    await run(
      'psql',
      [databaseUrlFor(bootstrapOnly), '-XqAt', '-v', 'ON_ERROR_STOP=1', '-f', path.join(ROOT, 'supabase/bootstrap/plain-postgres.sql')],
      {
        env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
      },
    );

    const db = await emptyDatabase();
    expect((await migrate(db, ['up'])).code).toBe(0);
    const afterUp = await schemaDump(db);

    for (let i = 0; i < migrationFiles.length; i += 1) {
      const down = await migrate(db, ['down']);
      expect(down.code, down.output).toBe(0);
    }
    expect(await ledger(db)).toEqual([]);
    const noneLeft = await migrate(db, ['down']);
    expect(noneLeft.code).not.toBe(0);
    expect(noneLeft.output).toMatch(/no applied migration to roll back/);
    // Every down script removed everything its migration created: only the bootstrap (and the CLI's ledger) remain.
    expect(await schemaDump(db, { withLedger: false })).toBe(await schemaDump(bootstrapOnly, { withLedger: false }));

    expect((await migrate(db, ['up'])).code).toBe(0);
    expect(await schemaDump(db)).toBe(afterUp);
  });

  it('a migration that fails halfway exits non-zero with the error and leaves ledger and schema as they were', async () => {
    const db = await emptyDatabase();
    expect((await migrate(db, ['up'])).code).toBe(0);
    const schemaBefore = await schemaDump(db);
    const ledgerBefore = await ledger(db);

    const dir = toolingWithExtraMigration(
      '29991231000000_fails_halfway.sql',
      'create table public.half_done (id int);\nalter table public.half_done add column broken no_such_type;\n',
    );
    try {
      const result = await migrate(db, ['up'], dir);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/no_such_type/);
      expect(result.output).toMatch(/migration failed .* rolled back/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await ledger(db)).toEqual(ledgerBefore);
    expect(await schemaDump(db)).toBe(schemaBefore);
  });

  it('refuses an unreachable database with a sentence that says what to check', async () => {
    const started = Date.now();
    const result = await run('bash', ['scripts/migrate.sh', 'up', '--db-url', 'postgresql://postgres@127.0.0.1:1/nowhere'], {
      cwd: ROOT,
    }).then(
      () => ({ code: 0, output: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, output: e.stderr }),
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/cannot reach the database at 127\.0\.0\.1:1\/nowhere/);
    expect(result.output).toMatch(/Is Postgres running/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("pgTAP's RLS check fails, naming the table, when a public table has row-level security off", async () => {
    const db = await emptyDatabase();
    expect((await migrate(db, ['up'])).code).toBe(0);
    const url = databaseUrlFor(db);
    await run('psql', [url, '-Xq', '-c', 'create extension pgtap', '-c', 'create table public.forgot_rls (id int)']);
    const { hostname, port } = new URL(url);
    const outcome = await run(
      'pg_prove',
      [
        '--host',
        hostname,
        '--port',
        port,
        '--username',
        'postgres',
        '--dbname',
        db,
        '--verbose',
        'supabase/tests/001_rls_enabled_on_every_table.sql',
      ],
      {
        cwd: ROOT,
      },
    ).then(
      (r) => ({ code: 0, output: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, output: e.stdout }),
    );
    expect(outcome.code).not.toBe(0);
    expect(outcome.output).toMatch(/not ok 2 - every table in public has row-level security enabled/);
    expect(outcome.output).toMatch(/forgot_rls/);
  });
});

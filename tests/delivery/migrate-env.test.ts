// scripts/migrate.sh per environment against the real local Postgres: prod takes a verified backup before it
// migrates (one that really restores), refuses without --yes-prod, and a dry run prints the exact commands.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { adminConnection, createTestDatabase, dropDatabase, loadSeed, type TestDatabase } from '../harness/database.ts';
import { databaseUrlFor, uniqueName } from '../harness/services.ts';
import { ROOT, removeTempDirs, runScript, tempDir, writeEnvFile } from './fixtures.ts';

const exec = promisify(execFile);
const created: string[] = [];
const migrationVersions = readdirSync(path.join(ROOT, 'supabase/migrations'))
  .filter((file) => file.endsWith('.sql'))
  .map((file) => file.split('_')[0]!)
  .sort();

async function emptyDatabase(): Promise<string> {
  const name = uniqueName('mdao_t_menv');
  const admin = adminConnection();
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  created.push(name);
  return name;
}

async function psql(database: string, sql: string): Promise<string> {
  const { stdout } = await exec('psql', [databaseUrlFor(database), '-XtAc', sql]);
  return stdout.trim();
}

const ledger = (database: string) =>
  psql(database, "select coalesce(string_agg(version, ',' order by version), '') from supabase_migrations.schema_migrations").catch(
    () => '',
  );

const cloned: TestDatabase[] = [];

afterAll(async () => {
  removeTempDirs();
  for (const name of created) await dropDatabase(name);
  for (const database of cloned) await database.drop();
});

describe('scripts/migrate.sh --env', () => {
  it('prod: refuses without --yes-prod and leaves the database untouched', async () => {
    const db = await emptyDatabase();
    const result = await runScript('scripts/migrate.sh', ['up', '--env', 'prod', '--db-url', databaseUrlFor(db)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to run 'up' in prod without --yes-prod\. Review the plan with --dry-run/);
    expect(await ledger(db)).toBe('');
  });

  it('prod dry run: prints backup, bootstrap and push commands, lists the pending migrations, changes nothing', async () => {
    const db = await emptyDatabase();
    const backups = tempDir('bk');
    const result = await runScript('scripts/migrate.sh', [
      'up',
      '--env',
      'prod',
      '--db-url',
      databaseUrlFor(db),
      '--backup-dir',
      backups,
      '--dry-run',
    ]);
    expect(result.code, result.output).toBe(0);
    const plan = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('$ '))
      .map((line) => line.slice(2));
    const target = databaseUrlFor(db).replace(/[.?]/g, '\\$&');
    expect(plan).toEqual([
      `mkdir -p ${backups}`,
      expect.stringMatching(new RegExp(`^pg_dump --format=custom --no-owner --file ${backups}/prod-\\d{8}T\\d{6}Z\\.dump ${target}$`)),
      expect.stringMatching(new RegExp(`^pg_restore --list ${backups}/prod-\\d{8}T\\d{6}Z\\.dump -f /dev/null$`)),
      expect.stringMatching(
        new RegExp(
          `^env PGOPTIONS=-c\\\\ client_min_messages=warning psql ${target} -X -q -v ON_ERROR_STOP=1 -1 -f supabase/bootstrap/plain-postgres\\.sql -o /dev/null$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^node_modules/\\.bin/supabase db push --db-url ${target}\\\\\\?sslmode=disable --yes$`)),
    ]);
    for (const version of migrationVersions) expect(result.output).toContain(version);
    expect(readdirSync(backups)).toEqual([]);
    expect(await ledger(db)).toBe('');
  });

  it('prod: backs up first, with a dump that restores the data, then migrates', async () => {
    const migrated = await createTestDatabase('menv');
    cloned.push(migrated);
    await loadSeed(migrated.sql);
    const db = migrated.name;
    const url = migrated.url;
    const messagesBefore = await psql(db, 'select count(*) from public.messages');
    expect(Number(messagesBefore)).toBeGreaterThan(0);

    const backups = tempDir('bk');
    const result = await runScript('scripts/migrate.sh', ['up', '--env', 'prod', '--db-url', url, '--backup-dir', backups, '--yes-prod']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/up to date/i);
    const order = ['backing up', 'backup written', 'applying pending migrations'].map((text) => result.stderr.indexOf(text));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const dumps = readdirSync(backups).filter((file) => file.endsWith('.dump'));
    expect(dumps).toEqual([expect.stringMatching(/^prod-\d{8}T\d{6}Z\.dump$/)]);

    const restored = await emptyDatabase();
    await exec('pg_restore', ['--no-owner', '--dbname', databaseUrlFor(restored), path.join(backups, dumps[0]!)]).catch(
      (error: { stderr?: string }) => {
        // pg_restore exits 1 on warnings (e.g. extensions owned elsewhere); the data checks below decide
        if (!/warning|errors ignored/i.test(error.stderr ?? '')) throw error;
      },
    );
    expect(await psql(restored, 'select count(*) from public.messages')).toBe(messagesBefore);
    expect(await ledger(restored)).toBe(migrationVersions.join(','));
  });

  it('prod: a backup taken just before by `backup` counts as the one `up` takes first', async () => {
    const migrated = await createTestDatabase('menv');
    cloned.push(migrated);
    const db = migrated.name;
    const url = migrated.url;
    const backups = tempDir('bk');
    const backup = await runScript('scripts/migrate.sh', [
      'backup',
      '--env',
      'prod',
      '--db-url',
      url,
      '--backup-dir',
      backups,
      '--yes-prod',
    ]);
    expect(backup.code, backup.output).toBe(0);
    const up = await runScript('scripts/migrate.sh', ['up', '--env', 'prod', '--db-url', url, '--backup-dir', backups, '--yes-prod']);
    expect(up.code, up.output).toBe(0);
    expect(up.stderr).toMatch(/using the backup taken 0 min ago: .*prod-\d{8}T\d{6}Z\.dump/);
    expect(readdirSync(backups).filter((file) => file.endsWith('.dump'))).toHaveLength(1);
    expect(await ledger(db)).toBe(migrationVersions.join(','));
  });

  it('reads the target from --env-file (DB_* variables, validated for that environment)', async () => {
    const migrated = await createTestDatabase('menv');
    cloned.push(migrated);
    const db = migrated.name;
    const admin = new URL(databaseUrlFor(db));
    const file = writeEnvFile({
      APP_ENV: 'test',
      DB_HOST: admin.hostname,
      DB_PORT: admin.port || '5432',
      DB_NAME: db,
      DB_USER: decodeURIComponent(admin.username || 'postgres'),
      DB_SSLMODE: 'disable',
    });
    const backups = tempDir('bk');
    const backup = await runScript('scripts/migrate.sh', ['backup', '--env', 'test', '--env-file', file, '--backup-dir', backups]);
    expect(backup.code, backup.output).toBe(0);
    expect(backup.stderr).toContain(`backing up ${admin.hostname}:${admin.port || '5432'}/${db} to ${backups}/test-`);
    const [dump] = readdirSync(backups).filter((name) => name.endsWith('.dump'));
    const { stdout: listing } = await exec('pg_restore', ['--list', path.join(backups, dump!)]);
    expect(listing).toContain(`dbname: ${db}`);
  });
});

describe('scripts/migrate.sh keeps the database password off command lines', () => {
  it('hands it to psql, pg_dump and the Supabase CLI as PGPASSWORD, never as an argument', async () => {
    const db = await emptyDatabase();
    const marker = 'Pw-Marker-7f3c91';
    // the local server trusts 127.0.0.1, so any password connects; what matters is where the password travels
    const url = databaseUrlFor(db).replace('postgres@', `postgres:${marker}@`);
    expect(url).toContain(marker);
    // shims record the arguments psql and pg_dump are started with, then run the real programs
    const shims = tempDir('pw-shims');
    const argvLog = path.join(shims, 'argv.log');
    for (const program of ['psql', 'pg_dump']) {
      const real = (await exec('bash', ['-c', `command -v ${program}`])).stdout.trim();
      writeFileSync(path.join(shims, program), `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${real}' "$@"\n`, {
        mode: 0o755,
      });
    }
    // and a sampler catches every other process (the Supabase CLI) while the script runs
    const seen: string[] = [];
    const sampler = setInterval(() => {
      exec('ps', ['-eo', 'args']).then(
        ({ stdout }) => seen.push(...stdout.split('\n').filter((line) => line.includes('supabase'))),
        () => {},
      );
    }, 25);
    try {
      const backups = tempDir('pw-backups');
      const result = await runScript(
        'scripts/migrate.sh',
        ['up', '--env', 'prod', '--db-url', url, '--backup-dir', backups, '--yes-prod'],
        {
          env: { PATH: `${shims}:${process.env.PATH}` },
        },
      );
      expect(result.code, result.output).toBe(0);
      expect(result.output).not.toContain(marker);
    } finally {
      clearInterval(sampler);
    }
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain('--format=custom'); // pg_dump's backup ran through the shim
    expect(argv.split('\n').length).toBeGreaterThan(3);
    expect(argv).not.toContain(marker);
    expect(seen.some((line) => line.includes('db push'))).toBe(true);
    expect(seen.filter((line) => line.includes(marker))).toEqual([]);
    expect(await ledger(db)).toBe(migrationVersions.join(','));
  });
});

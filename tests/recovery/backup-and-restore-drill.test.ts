// scripts/backup.sh and scripts/restore-drill.sh end to end on a small dataset: the manifest matches the
// database at the dump's snapshot, retention keeps what it says, the drill restores into a fresh temporary
// cluster, verifies, serves the smoke check through the real gateway and reports RTO/RPO; bad backups and
// non-empty targets are refused before anything is created.
import { copyFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupManifest } from '../../scripts/lib/recovery/manifest.ts';
import type { DrillReport } from '../../scripts/lib/recovery/restore-drill.ts';
import { createTestDatabase, seedIds, type TestDatabase } from '../harness/database.ts';
import { removeTempDirs, runScript, tempDir } from '../delivery/fixtures.ts';

let db: TestDatabase;
let backupDir: string;
let manifestFile: string;
let manifest: BackupManifest;

const dumpOf = (manifestPath: string) => manifestPath.replace(/\.manifest\.json$/, '.dump');
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;

beforeAll(async () => {
  db = await createTestDatabase('backup');
  // the demo seed plus a little data, including text that needs quoting
  await db.sql.file(path.join(import.meta.dirname, '../../supabase/seed.sql'));
  for (let i = 0; i < 25; i += 1) {
    await db.sql`insert into public.messages (channel_id, team_id, author_id, body)
                 values (${seedIds.generalChannel}, ${seedIds.demoTeam}, ${seedIds.alice}, ${`drill message ${i} — "quoted", ünïcode`})`;
  }
  backupDir = tempDir('backups');
  // the password reaches pg_dump through PGPASSWORD; trust auth accepts it, so it proves only that it is passed safely
  const result = await runScript('scripts/backup.sh', [
    '--env',
    'test',
    '--db-url',
    db.url.replace('postgres@', 'postgres:not-on-the-command-line@'),
    '--out-dir',
    backupDir,
  ]);
  expect(result.code, result.output).toBe(0);
  manifestFile = result.stdout.trim().split('\n').at(-1)!;
  manifest = readJson<BackupManifest>(manifestFile);
}, 120_000);

afterAll(async () => {
  await db?.drop();
  removeTempDirs();
});

describe('scripts/backup.sh', () => {
  it('writes a custom-format dump and a manifest matching the database: ledger, row counts, RLS, size, sha256', async () => {
    const [ledger] = await db.sql<{ version: string }[]>`select max(version) as version from supabase_migrations.schema_migrations`;
    expect(manifest.migration_version).toBe(ledger!.version);
    const [messages] = await db.sql<{ n: number }[]>`select count(*)::int as n from public.messages`;
    expect(manifest.tables['public.messages']!.rows).toBe(messages!.n);
    expect(manifest.tables['public.messages']!.rows).toBeGreaterThanOrEqual(25);
    expect(manifest.tables['supabase_migrations.schema_migrations']!.rows).toBeGreaterThan(0);
    expect(manifest.rls_tables).toContain('public.messages');
    const dump = dumpOf(manifestFile);
    expect(statSync(dump).size).toBe(manifest.dump_bytes);
    expect(statSync(dump).mode & 0o777).toBe(0o600);
    expect(readFileSync(dump).subarray(0, 5).toString()).toBe('PGDMP'); // custom format
    expect(manifest.toc_entries).toBeGreaterThan(50);
    expect(JSON.stringify(manifest)).not.toContain('not-on-the-command-line');
  });

  it('keeps the newest --keep dumps and removes older ones with their manifests', async () => {
    const dir = tempDir('retention');
    for (let i = 0; i < 3; i += 1) {
      const run = await runScript('scripts/backup.sh', ['--env', 'test', '--db-url', db.url, '--out-dir', dir, '--keep', '2']);
      expect(run.code, run.output).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // names carry the second
    }
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.endsWith('.dump'))).toHaveLength(2);
    expect(files.filter((f) => f.endsWith('.manifest.json'))).toHaveLength(2);
  });

  it('--dry-run prints the plan and connects to nothing', async () => {
    const run = await runScript('scripts/backup.sh', [
      '--env',
      'test',
      '--db-url',
      'postgresql://u:secret@127.0.0.1:1/nowhere',
      '--dry-run',
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/pg_dump --format=custom --snapshot=/);
    expect(run.output).not.toContain('secret');
  });
});

describe('scripts/backup.sh --check-supabase', () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
  const listing = (pitr: boolean, newestHoursAgo: number) => {
    const file = path.join(tempDir('listing'), 'backups.json');
    writeFileSync(
      file,
      JSON.stringify({
        region: 'eu-central-1',
        walg_enabled: true,
        pitr_enabled: pitr,
        backups: [
          { is_physical_backup: true, status: 'COMPLETED', inserted_at: hoursAgo(newestHoursAgo + 24) },
          { is_physical_backup: true, status: 'COMPLETED', inserted_at: hoursAgo(newestHoursAgo) },
          { is_physical_backup: true, status: 'FAILED', inserted_at: hoursAgo(1) },
        ],
      }),
    );
    return file;
  };
  const check = (file: string) => runScript('scripts/backup.sh', ['--env', 'prod', '--check-supabase', '--backups-json', file]);

  it('passes with PITR on and a backup from the last day', async () => {
    const run = await check(listing(true, 5));
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/point-in-time recovery is on/);
  });

  it('fails when PITR is off', async () => {
    const run = await check(listing(false, 5));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/point-in-time recovery is OFF/);
  });

  it('fails when the newest completed backup is too old (a failed newer one does not count)', async () => {
    const run = await check(listing(true, 40));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/the newest backup .* is 40\.\d h old, more than the allowed 26 h/);
  });

  it('--dry-run prints the pinned CLI call', async () => {
    const run = await runScript('scripts/backup.sh', [
      '--env',
      'prod',
      '--check-supabase',
      '--project-ref',
      'abcdefghijklmnopqrst',
      '--dry-run',
    ]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/node_modules\/\.bin\/supabase backups list --project-ref abcdefghijklmnopqrst -o json/);
  });
});

describe('scripts/restore-drill.sh', () => {
  it('restores into a fresh cluster, verifies against the manifest, passes the smoke check through the gateway and reports RTO and RPO', async () => {
    const reportDir = tempDir('drill-report');
    const run = await runScript(
      'scripts/restore-drill.sh',
      ['--env', 'test', '--backup', dumpOf(manifestFile), '--report-dir', reportDir],
      {
        timeoutMs: 300_000,
      },
    );
    expect(run.code, run.output).toBe(0);
    const report = readJson<DrillReport>(run.stdout.trim().split('\n').at(-1)!);
    expect(report.result).toBe('pass');
    expect(report.differences).toEqual([]);
    expect(report.rows_verified).toBe(Object.values(manifest.tables).reduce((sum, t) => sum + t.rows, 0));
    expect(report.steps.map((s) => s.name)).toEqual([
      'preflight',
      'create a temporary cluster',
      'create roles',
      'pg_restore',
      'verify against the manifest',
      'gateway + smoke check',
    ]);
    expect(report.smoke).toMatch(/PASS\s+message listed/);
    expect(report.rto_seconds).toBeGreaterThan(0);
    expect(report.rpo_seconds).toBeGreaterThan(0);
    expect(readdirSync(reportDir).some((f) => f.endsWith('.md'))).toBe(true);
    console.log(
      `restore drill: RTO ${report.rto_seconds!.toFixed(1)} s, RPO (data age) ${report.rpo_seconds!.toFixed(1)} s, ${report.rows_verified} rows`,
    );
  }, 320_000);

  it('fails the drill and lists the difference when the restored data does not match the manifest', async () => {
    const dir = tempDir('tampered');
    const dump = path.join(dir, 'test-20260101T000000Z.dump');
    copyFileSync(dumpOf(manifestFile), dump);
    const tampered = structuredClone(manifest);
    tampered.tables['public.messages']!.rows += 1;
    writeFileSync(dump.replace(/\.dump$/, '.manifest.json'), JSON.stringify(tampered));
    const run = await runScript('scripts/restore-drill.sh', ['--backup', dump, '--report-dir', dir, '--skip-smoke'], {
      timeoutMs: 120_000,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/rows of public\.messages \(expected \d+, found \d+\)/);
    const report = readJson<DrillReport>(run.stdout.trim().split('\n').at(-1)!);
    expect(report.result).toBe('fail');
  }, 130_000);

  describe('refuses bad input before creating anything', () => {
    const drillOn = async (mutate: (dump: string, manifestPath: string) => void) => {
      const dir = tempDir('bad');
      const dump = path.join(dir, 'test-20260101T000000Z.dump');
      copyFileSync(dumpOf(manifestFile), dump);
      copyFileSync(manifestFile, dump.replace(/\.dump$/, '.manifest.json'));
      mutate(dump, dump.replace(/\.dump$/, '.manifest.json'));
      const run = await runScript('scripts/restore-drill.sh', ['--backup', dump, '--report-dir', path.join(dir, 'reports')]);
      expect(run.code).toBe(1);
      expect(readdirSync(dir)).not.toContain('reports'); // failed in preflight: no cluster, no report
      return run.stderr;
    };

    it('a truncated dump', async () => {
      const message = await drillOn((dump) => truncateSync(dump, Math.floor(statSync(dump).size / 2)));
      expect(message).toMatch(/is corrupt or truncated: its sha256 differs from the manifest's/);
    });

    it('a corrupt dump', async () => {
      const message = await drillOn((dump) => {
        const bytes = readFileSync(dump);
        bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
        writeFileSync(dump, bytes);
      });
      expect(message).toMatch(/is corrupt or truncated/);
    });

    it('a dump from a newer schema than this checkout', async () => {
      const message = await drillOn((_dump, manifestPath) => {
        writeFileSync(manifestPath, JSON.stringify({ ...readJson<BackupManifest>(manifestPath), migration_version: '29991231000000' }));
      });
      expect(message).toMatch(/the backup is from a newer schema \(29991231000000\) than this checkout knows \(\d{14}\)/);
    });

    it('a dump without its manifest', async () => {
      const message = await drillOn((_dump, manifestPath) => truncateSync(manifestPath, 0));
      expect(message).toMatch(/manifest .* is not valid JSON/);
    });
  });

  it('refuses a non-empty target and leaves it untouched', async () => {
    const [before] = await db.sql<{ n: number }[]>`select count(*)::int as n from public.messages`;
    const run = await runScript('scripts/restore-drill.sh', [
      '--backup',
      dumpOf(manifestFile),
      '--target-url',
      db.url,
      '--report-dir',
      tempDir('nonempty'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is not empty \(\d+ tables\): restores go into a new, empty database only/);
    const [after] = await db.sql<{ n: number }[]>`select count(*)::int as n from public.messages`;
    expect(after!.n).toBe(before!.n);
  });
});

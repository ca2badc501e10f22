// scripts/restore-drill.sh: a backup restored into a FRESH temporary cluster (never over a live database),
// verified against its manifest, served by a real gateway that passes the smoke check, reported with the
// measured RTO and the data age (RPO), then torn down. See docs/recovery.md.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { denoGatewayCommand } from '../../local-stack/apps.ts';
import { httpStatus, runCaptured, SupervisedProcess, waitUntil } from '../../local-stack/processes.ts';
import { ephemeralPort } from '../../local-stack/state.ts';
import { sha256File } from './backup-file.ts';
import { fromCaller, libpqTarget, RecoveryError, say } from './connection.ts';
import { compareWithManifest, type BackupManifest, type ManifestDifference } from './manifest.ts';
import { createPrivateCluster, type PrivateCluster } from './private-cluster.ts';

const SCRIPT = 'restore-drill';
const ROOT = path.resolve(import.meta.dirname, '../../..');

class UsageError extends Error {}

function parseFlags() {
  return parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      env: { type: 'string', default: 'local' },
      backup: { type: 'string' },
      'backup-dir': { type: 'string' },
      'target-url': { type: 'string' },
      'report-dir': { type: 'string' },
      'skip-smoke': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
}

interface Step {
  name: string;
  ms: number;
  detail: string;
}

export interface DrillReport {
  format: 'microdao-restore-drill/1';
  result: 'pass' | 'fail';
  failure?: string;
  env: string;
  backup: { file: string; source: string; migration_version: string; snapshot_at: string; dump_bytes: number };
  target: string;
  started_at: string;
  finished_at: string;
  /** From the start of the restore to a gateway on the restored data passing the smoke check. */
  rto_seconds?: number;
  /** Data age: how old the newest restored data is when service is back (snapshot → restored and serving). */
  rpo_seconds?: number;
  tables_verified: number;
  rows_verified: number;
  differences: ManifestDifference[];
  steps: Step[];
  smoke?: string;
}

/** The newest migration this checkout knows: a dump from a newer schema cannot be served by this code. */
export function newestKnownMigration(): string {
  const versions = readdirSync(path.join(ROOT, 'supabase/migrations'))
    .map((f) => /^(\d+)_/.exec(f)?.[1])
    .filter((v): v is string => Boolean(v))
    .sort();
  return versions.at(-1) ?? '';
}

function pickBackup(env: string, backup?: string, backupDir?: string): string {
  if (backup) return fromCaller(backup);
  const dir = backupDir ? fromCaller(backupDir) : path.join(ROOT, '.local/backups', env);
  const newest = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(`${env}-`) && f.endsWith('.dump'))
        .sort()
        .at(-1)
    : undefined;
  if (!newest)
    throw new RecoveryError(`no backup of ${env} in ${dir}: take one with scripts/backup.sh --env ${env}, or pass --backup FILE`);
  return path.join(dir, newest);
}

/** Everything that can be checked before anything is created: a bad backup fails here and touches nothing. */
async function preflight(dumpFile: string): Promise<BackupManifest> {
  if (!existsSync(dumpFile)) throw new RecoveryError(`the backup ${dumpFile} does not exist`);
  const manifestFile = dumpFile.replace(/\.dump$/, '.manifest.json');
  if (!existsSync(manifestFile))
    throw new RecoveryError(
      `the backup has no manifest (${path.basename(manifestFile)}): without it a restore cannot be verified; take backups with scripts/backup.sh`,
    );
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
  } catch {
    throw new RecoveryError(`the manifest ${manifestFile} is not valid JSON: the backup cannot be verified`);
  }
  if (manifest.format !== 'microdao-backup-manifest/1')
    throw new RecoveryError(`the manifest ${manifestFile} is not a backup manifest this script knows`);
  const sha = await sha256File(dumpFile);
  if (sha !== manifest.dump_sha256)
    throw new RecoveryError(
      `the backup ${path.basename(dumpFile)} is corrupt or truncated: its sha256 differs from the manifest's (${sha.slice(0, 12)}… ≠ ${manifest.dump_sha256.slice(0, 12)}…); pick another backup`,
    );
  const listed = await runCaptured('pg_restore', ['--list', dumpFile]);
  if (listed.code !== 0)
    throw new RecoveryError(`the backup cannot be read (pg_restore --list: ${listed.output.trim()}); pick another backup`);
  const known = newestKnownMigration();
  if (manifest.migration_version > known)
    throw new RecoveryError(
      `the backup is from a newer schema (${manifest.migration_version}) than this checkout knows (${known}): check out the release that took it, then restore`,
    );
  return manifest;
}

async function assertEmptyTarget(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [row] = await sql<{ tables: number }[]>`
      select count(*)::int as tables from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm') and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')`;
    if ((row?.tables ?? 0) > 0)
      throw new RecoveryError(
        `the target ${libpqTarget(url).label} is not empty (${row!.tables} tables): restores go into a new, empty database only — never over an existing one`,
      );
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function createRoles(url: string, roles: BackupManifest['roles']): Promise<number> {
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  let created = 0;
  try {
    for (const role of roles) {
      const [exists] = await sql`select 1 from pg_roles where rolname = ${role.name}`;
      if (exists) continue;
      // login stays off: the restored cluster is reached only through its superuser until traffic is redirected
      await sql.unsafe(`create role "${role.name.replace(/"/g, '""')}" nologin${role.bypassrls ? ' bypassrls' : ''}`);
      created += 1;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return created;
}

async function smokeAgainstGateway(databaseUrl: string, logDir: string): Promise<string> {
  const db = new URL(databaseUrl);
  const port = await ephemeralPort();
  const gateway = new SupervisedProcess({
    name: 'api',
    ...denoGatewayCommand(ROOT),
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DENO_DIR: process.env.DENO_DIR,
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      DB_HOST: db.hostname,
      DB_PORT: db.port,
      DB_NAME: db.pathname.slice(1),
      DB_USER: 'postgres',
      DB_SSLMODE: 'disable',
      DEV_LOGIN_ENABLED: 'true',
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      // throwaway secrets: the drill's gateway signs only its own sessions
      JWT_SECRET: randomBytes(32).toString('hex'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    },
    logFile: path.join(logDir, 'gateway.log'),
    echo: false,
  });
  try {
    await waitUntil('the gateway on the restored database', async () => (await httpStatus(`http://127.0.0.1:${port}/api/health`)) === 200, {
      timeoutMs: 180_000,
      intervalMs: 250,
      giveUp: () => (gateway.running ? undefined : `it exited: ${gateway.tail()}`),
    });
    const smoke = await runCaptured('bash', ['scripts/smoke.sh', '--env', 'test', '--base-url', `http://127.0.0.1:${port}/api`], {
      cwd: ROOT,
      timeoutMs: 120_000,
    });
    if (smoke.code !== 0) throw new RecoveryError(`the smoke check failed against the restored database:\n${smoke.output.trim()}`);
    return smoke.output.trim();
  } finally {
    await gateway.stop();
  }
}

function writeReport(report: DrillReport, dir: string): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.started_at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const json = path.join(dir, `restore-drill-${report.env}-${stamp}.json`);
  const markdown = json.replace(/\.json$/, '.md');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  const lines = [
    `# Restore drill ${report.env} — ${report.result.toUpperCase()}`,
    '',
    `- Backup: \`${report.backup.file}\` of ${report.backup.source}, snapshot ${report.backup.snapshot_at}, ledger ${report.backup.migration_version}, ${report.backup.dump_bytes} bytes`,
    `- Target: ${report.target}`,
    `- Drill: ${report.started_at} → ${report.finished_at}`,
    `- **RTO (measured): ${report.rto_seconds?.toFixed(1) ?? 'n/a'} s** — restore start to a gateway on the restored data passing the smoke check`,
    `- **RPO (data age): ${report.rpo_seconds?.toFixed(1) ?? 'n/a'} s** — from the backup's snapshot to service restored`,
    `- Verified: ${report.tables_verified} tables, ${report.rows_verified} rows against the manifest; ${report.differences.length} differences`,
    ...(report.failure ? ['', `**Failure:** ${report.failure}`] : []),
    '',
    '| step | ms | detail |',
    '|---|---:|---|',
    ...report.steps.map((s) => `| ${s.name} | ${s.ms} | ${s.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
    ...(report.differences.length
      ? [
          '',
          '| difference | expected | found |',
          '|---|---|---|',
          ...report.differences.map((d) => `| ${d.what} | ${d.expected} | ${d.found} |`),
        ]
      : []),
    '',
  ];
  writeFileSync(markdown, lines.join('\n'));
  return { json, markdown };
}

async function main(): Promise<void> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const env = flags.env!;
  const dumpFile = pickBackup(env, flags.backup, flags['backup-dir']);
  const reportDir = flags['report-dir'] ? fromCaller(flags['report-dir']) : path.join(ROOT, '.local/drills');
  if (flags['dry-run']) {
    process.stdout.write(
      [
        `# preflight ${dumpFile}: manifest present, sha256 equal, pg_restore --list readable, ledger ≤ ${newestKnownMigration()}`,
        flags['target-url']
          ? `# target ${libpqTarget(flags['target-url']).label}: refuse unless it is empty`
          : '# initdb a temporary cluster on a free port (as the postgres user), start it, create database restored',
        '# create the roles the manifest lists (nologin)',
        `$ pg_restore --exit-on-error --single-transaction --no-owner --dbname <target> ${dumpFile}`,
        '# compare row counts, checksums, ledger version and RLS with the manifest',
        flags['skip-smoke']
          ? '# (smoke skipped)'
          : '# start the gateway (Deno) on the restored database; scripts/smoke.sh --env test against it',
        `# write the report (JSON + Markdown) to ${reportDir}; stop and remove the temporary cluster`,
        '',
      ].join('\n'),
    );
    return;
  }

  const startedAt = new Date();
  const steps: Step[] = [];
  const timed = async <T>(name: string, work: () => Promise<T>, detail: (r: T) => string = () => ''): Promise<T> => {
    const t0 = performance.now();
    say(SCRIPT, `${name}…`);
    const result = await work();
    steps.push({ name, ms: Math.round(performance.now() - t0), detail: detail(result) });
    return result;
  };
  const manifest = await timed(
    'preflight',
    () => preflight(dumpFile),
    (m) => `sha256 ok, ledger ${m.migration_version}`,
  );
  const workDir = mkdtempSync(path.join(tmpdir(), 'mdao-restore-'));
  chmodSync(workDir, 0o711); // the cluster runs as the postgres user and must reach its folder inside
  let cluster: PrivateCluster | undefined;
  const report: DrillReport = {
    format: 'microdao-restore-drill/1',
    result: 'fail',
    env,
    backup: {
      file: path.basename(dumpFile),
      source: manifest.source,
      migration_version: manifest.migration_version,
      snapshot_at: manifest.snapshot_at,
      dump_bytes: manifest.dump_bytes,
    },
    target: flags['target-url'] ? libpqTarget(flags['target-url']).label : 'a temporary cluster',
    started_at: startedAt.toISOString(),
    finished_at: '',
    tables_verified: 0,
    rows_verified: 0,
    differences: [],
    steps,
  };
  const restoreStart = performance.now();
  try {
    let targetUrl: string;
    if (flags['target-url']) {
      targetUrl = flags['target-url'];
      await timed('check the target is empty', () => assertEmptyTarget(targetUrl));
    } else {
      cluster = await timed(
        'create a temporary cluster',
        async () => {
          const created = await createPrivateCluster(path.join(workDir, 'cluster'), { settings: { fsync: 'off' } });
          await created.start();
          const admin = postgres(created.url(), { max: 1, onnotice: () => {} });
          await admin`create database restored`;
          await admin.end();
          return created;
        },
        (c) => `initdb + start on 127.0.0.1:${c.port}`,
      );
      targetUrl = cluster.url('restored');
      report.target = `temporary cluster 127.0.0.1:${cluster.port}/restored`;
    }
    await timed(
      'create roles',
      () => createRoles(targetUrl, manifest.roles),
      (n) => `${n} created of ${manifest.roles.length}`,
    );
    const target = libpqTarget(targetUrl);
    await timed('pg_restore', async () => {
      const restored = await runCaptured(
        'pg_restore',
        ['--exit-on-error', '--single-transaction', '--no-owner', '--dbname', target.url, dumpFile],
        {
          env: { ...process.env, ...target.env },
          timeoutMs: 3_600_000,
        },
      );
      if (restored.code !== 0)
        throw new RecoveryError(`pg_restore failed; the target was left without the restore (one transaction): ${restored.output.trim()}`);
    });
    const differences = await timed(
      'verify against the manifest',
      async () => {
        const sql = postgres(target.url, {
          max: 1,
          prepare: false,
          onnotice: () => {},
          ...(target.env.PGPASSWORD ? { password: target.env.PGPASSWORD } : {}),
        });
        try {
          return await sql.begin((tx) => compareWithManifest(tx, manifest));
        } finally {
          await sql.end({ timeout: 5 });
        }
      },
      (d) => `${d.length} differences`,
    );
    report.differences = differences;
    report.tables_verified = Object.keys(manifest.tables).length;
    report.rows_verified = Object.values(manifest.tables).reduce((sum, t) => sum + t.rows, 0);
    if (differences.length)
      throw new RecoveryError(
        `the restore differs from the manifest: ${differences.map((d) => `${d.what} (expected ${d.expected}, found ${d.found})`).join('; ')}`,
      );
    if (!flags['skip-smoke']) {
      report.smoke = await timed(
        'gateway + smoke check',
        () => smokeAgainstGateway(targetUrl, workDir),
        (out) => out.split('\n').at(-1) ?? '',
      );
    }
    const servedAt = Date.now();
    report.rto_seconds = (performance.now() - restoreStart) / 1000;
    report.rpo_seconds = (servedAt - Date.parse(manifest.snapshot_at)) / 1000;
    report.result = 'pass';
  } catch (error) {
    report.failure = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    if (cluster) await cluster.destroy();
    rmSync(workDir, { recursive: true, force: true });
    report.finished_at = new Date().toISOString();
    const files = writeReport(report, reportDir);
    say(SCRIPT, `report: ${files.markdown}`);
    process.stdout.write(`${files.json}\n`);
    if (report.result === 'pass')
      say(
        SCRIPT,
        `PASS: RTO ${report.rto_seconds!.toFixed(1)} s, RPO (data age) ${report.rpo_seconds!.toFixed(1)} s, ${report.rows_verified} rows verified`,
      );
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    say(SCRIPT, `${error.message} (see --help)`);
    process.exit(2);
  }
  // a known failure is one sentence; anything else keeps its stack under DEBUG=1
  say(
    SCRIPT,
    `error: ${error instanceof Error ? (process.env.DEBUG && !(error instanceof RecoveryError) ? error.stack : error.message) : String(error)}`,
  );
  process.exit(1);
});

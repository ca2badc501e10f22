// scripts/backup.sh: a logical backup (pg_dump -Fc) with its manifest, read back with pg_restore --list, then
// retention; or (--check-supabase) the check of Supabase's own backups and PITR. See docs/recovery.md.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { sha256File } from './backup-file.ts';
import { fromCaller, libpqTarget, RecoveryError, resolveDatabaseUrl, say } from './connection.ts';
import { measureTables, migrationVersion, nonSystemRoles, tablesWithRls, type BackupManifest } from './manifest.ts';
import { judgeSupabaseBackups, supabaseBackupsSchema } from './supabase-backups.ts';

const SCRIPT = 'backup';
const ROOT = path.resolve(import.meta.dirname, '../../..');
const ENVS = ['local', 'test', 'dev', 'staging', 'prod'];

function parseFlags() {
  return parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      env: { type: 'string' },
      'env-file': { type: 'string' },
      'db-url': { type: 'string' },
      'out-dir': { type: 'string' },
      keep: { type: 'string', default: '7' },
      'max-age-days': { type: 'string', default: '30' },
      'dry-run': { type: 'boolean', default: false },
      'check-supabase': { type: 'boolean', default: false },
      'project-ref': { type: 'string' },
      'backups-json': { type: 'string' },
      'max-backup-age-hours': { type: 'string', default: '26' },
      'pitr-optional': { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
}
let flags: ReturnType<typeof parseFlags>;

function positiveNumber(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, not '${value}'`);
  return n;
}

class UsageError extends Error {}

/** Runs a program to completion; its stderr is kept for the error message, stdout returned. */
function runProgram(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', (e) => resolve({ code: null, stdout, stderr: `${stderr}${e.message}` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function checkSupabase(env: string): Promise<void> {
  const maxAgeHours = positiveNumber('max-backup-age-hours', flags['max-backup-age-hours']);
  const requirePitr = !flags['pitr-optional'];
  const projectRef = flags['project-ref'] ?? process.env.SUPABASE_PROJECT_REF;
  const cli = path.join(ROOT, 'node_modules/.bin/supabase');
  const args = ['backups', 'list', '--project-ref', projectRef ?? '<SUPABASE_PROJECT_REF>', '-o', 'json'];
  let raw: string;
  if (flags['backups-json']) {
    say(SCRIPT, `reading the backup listing from ${flags['backups-json']} instead of the Supabase CLI`);
    raw = readFileSync(fromCaller(flags['backups-json']), 'utf8');
  } else if (flags['dry-run']) {
    process.stdout.write(
      `$ ${cli} ${args.join(' ')}\n# fail unless pitr_enabled${requirePitr ? '' : ' (not required)'} and the newest completed backup is at most ${maxAgeHours} h old\n`,
    );
    return;
  } else {
    if (!projectRef) throw new UsageError(`--project-ref (or SUPABASE_PROJECT_REF) is required to check the ${env} project's backups`);
    if (!process.env.SUPABASE_ACCESS_TOKEN)
      throw new RecoveryError('SUPABASE_ACCESS_TOKEN is not set: the Supabase CLI needs a personal access token to list backups');
    say(SCRIPT, `$ supabase ${args.join(' ')}`);
    const listed = await runProgram(cli, args);
    if (listed.code !== 0) throw new RecoveryError(`supabase backups list failed: ${listed.stderr.trim() || listed.stdout.trim()}`);
    raw = listed.stdout;
  }
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(raw);
  } catch {
    throw new RecoveryError('the backup listing is not JSON: is the Supabase CLI the pinned version (package.json)?');
  }
  const parsed = supabaseBackupsSchema.safeParse(parsedJson);
  if (!parsed.success)
    throw new RecoveryError(
      `the backup listing has an unexpected shape (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
    );
  const check = judgeSupabaseBackups(parsed.data, { now: new Date(), maxAgeHours, requirePitr });
  for (const finding of check.findings) process.stdout.write(`${finding}\n`);
  if (!check.ok) throw new RecoveryError(`the ${env} project's backups are not good enough (see above)`);
  say(SCRIPT, `the ${env} project's backups are fine`);
}

/** Deletes dumps (and their manifests) beyond the newest `keep`, and any older than `maxAgeDays` except the newest. */
export function applyRetention(dir: string, env: string, keep: number, maxAgeDays: number, now = Date.now(), dryRun = false): string[] {
  const dumps = readdirSync(dir)
    .filter((f) => f.startsWith(`${env}-`) && f.endsWith('.dump'))
    .sort()
    .reverse();
  const removed: string[] = [];
  dumps.forEach((file, index) => {
    const ageDays = (now - statSync(path.join(dir, file)).mtimeMs) / 86_400_000;
    if (index === 0 || (index < keep && ageDays <= maxAgeDays)) return;
    removed.push(file);
    if (dryRun) return;
    rmSync(path.join(dir, file), { force: true });
    rmSync(path.join(dir, file.replace(/\.dump$/, '.manifest.json')), { force: true });
  });
  return removed;
}

async function takeBackup(env: string): Promise<void> {
  const keep = positiveNumber('keep', flags.keep);
  const maxAgeDays = positiveNumber('max-age-days', flags['max-age-days']);
  const outDir = flags['out-dir'] ? fromCaller(flags['out-dir']) : path.join(ROOT, '.local/backups', env);
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const dumpFile = path.join(outDir, `${env}-${stamp}.dump`);
  const manifestFile = dumpFile.replace(/\.dump$/, '.manifest.json');
  const target = libpqTarget(
    resolveDatabaseUrl({ dbUrl: flags['db-url'], env, envFile: flags['env-file'] && fromCaller(flags['env-file']) }),
  );

  if (flags['dry-run']) {
    process.stdout.write(
      [
        `# connect to ${target.label}; in one repeatable-read transaction: pg_export_snapshot(), row counts + checksums, ledger version, RLS, roles`,
        `$ pg_dump --format=custom --snapshot=<exported snapshot> --file ${dumpFile}.partial ${target.url}   # password from PGPASSWORD/.pgpass`,
        `$ pg_restore --list ${dumpFile}.partial`,
        `# rename to ${dumpFile}, write ${manifestFile}`,
        `# retention in ${outDir}: keep the newest ${keep}, delete those older than ${maxAgeDays} days (never the newest)`,
        '',
      ].join('\n'),
    );
    return;
  }

  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const startedAt = new Date();
  say(SCRIPT, `backing up ${target.label} to ${dumpFile}`);
  const sql = postgres(target.url, {
    max: 1,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: 'microdao-backup' },
    ...passwordOption(target),
  });
  let manifest: Omit<BackupManifest, 'finished_at' | 'duration_ms' | 'dump_bytes' | 'dump_sha256' | 'toc_entries'>;
  try {
    // The manifest and the dump see the same snapshot, so their figures match exactly even under writes.
    manifest = await sql.begin('isolation level repeatable read read only', async (tx) => {
      const [snap] = await tx<{ id: string; at: Date; server_version: string }[]>`
        select pg_export_snapshot() as id, now() as at, current_setting('server_version') as server_version`;
      const figures = {
        format: 'microdao-backup-manifest/1' as const,
        env,
        source: target.label,
        migration_version: await migrationVersion(tx),
        server_version: snap!.server_version,
        snapshot_at: snap!.at.toISOString(),
        started_at: startedAt.toISOString(),
        dump_file: path.basename(dumpFile),
        tables: await measureTables(tx),
        rls_tables: await tablesWithRls(tx),
        roles: await nonSystemRoles(tx),
      };
      const dumped = await runProgram(
        'pg_dump',
        ['--format=custom', `--snapshot=${snap!.id}`, '--file', `${dumpFile}.partial`, target.url],
        target.env,
      );
      if (dumped.code !== 0) throw new RecoveryError(`pg_dump failed: ${dumped.stderr.trim()}`);
      return figures;
    });
  } catch (error) {
    rmSync(`${dumpFile}.partial`, { force: true });
    if (error instanceof RecoveryError) throw error;
    throw new RecoveryError(`cannot take a consistent snapshot of ${target.label}: ${(error as Error).message}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const listed = await runProgram('pg_restore', ['--list', `${dumpFile}.partial`]);
  if (listed.code !== 0) {
    rmSync(`${dumpFile}.partial`, { force: true });
    throw new RecoveryError(`the dump cannot be read back (pg_restore --list: ${listed.stderr.trim()}); nothing was kept`);
  }
  renameSync(`${dumpFile}.partial`, dumpFile);
  chmodSync(dumpFile, 0o600); // the dump holds every user's data
  const finishedAt = new Date();
  const complete: BackupManifest = {
    ...manifest,
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    dump_bytes: statSync(dumpFile).size,
    dump_sha256: await sha256File(dumpFile),
    toc_entries: listed.stdout.split('\n').filter((line) => line && !line.startsWith(';')).length,
  };
  writeFileSync(`${manifestFile}.partial`, `${JSON.stringify(complete, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${manifestFile}.partial`, manifestFile);
  const rows = Object.values(complete.tables).reduce((sum, t) => sum + t.rows, 0);
  say(
    SCRIPT,
    `backup written: ${dumpFile} (${complete.dump_bytes} bytes, ${Object.keys(complete.tables).length} tables, ${rows} rows, ledger ${complete.migration_version || 'empty'}, ${complete.duration_ms} ms)`,
  );
  for (const removed of applyRetention(outDir, env, keep, maxAgeDays)) say(SCRIPT, `retention: removed ${removed}`);
  process.stdout.write(`${manifestFile}\n`);
}

// postgres.js reads the password from the URL; libpqTarget took it out for the child programs, so give it back here.
function passwordOption(target: { env: Record<string, string> }) {
  return target.env.PGPASSWORD ? { password: target.env.PGPASSWORD } : {};
}

async function main(): Promise<void> {
  try {
    flags = parseFlags();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const env = flags.env ?? '';
  if (!ENVS.includes(env)) throw new UsageError(`--env is required: one of ${ENVS.join(', ')}`);
  if (flags['check-supabase']) await checkSupabase(env);
  else await takeBackup(env);
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

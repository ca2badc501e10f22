// scripts/pitr-drill.sh: point-in-time recovery proven locally with pgBackRest. A private cluster archives its
// WAL into a pgBackRest repository; after a full backup a marker row is written, the target time taken, a
// second marker written; a NEW cluster is restored to the target time and must hold the first marker and not
// the second. Everything lives in one temporary folder, removed at the end. See docs/recovery.md.
import { mkdtempSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { sleep, waitUntil } from '../../local-stack/processes.ts';
import { RecoveryError, say } from './connection.ts';
import { createPrivateCluster, ownedDir, writeOwnedFile, type PrivateCluster } from './private-cluster.ts';

const SCRIPT = 'pitr-drill';
const STANZA = 'drill';

export interface PitrReport {
  format: 'microdao-pitr-drill/1';
  result: 'pass' | 'fail';
  target_time: string;
  /** Marker rows on the original cluster, and what the restored one holds. */
  original: string[];
  restored: string[];
  backup_ms: number;
  /** pgBackRest restore + WAL replay to the target + promotion, until the cluster answers. */
  restore_ms: number;
  failure?: string;
}

function writePgbackrestConfig(file: string, dir: string, cluster: PrivateCluster): void {
  writeOwnedFile(
    file,
    [
      '[global]',
      `repo1-path=${ownedDir(path.join(dir, 'repo'))}`,
      `log-path=${ownedDir(path.join(dir, 'log'))}`,
      `lock-path=${ownedDir(path.join(dir, 'lock'))}`,
      'repo1-retention-full=1',
      'start-fast=y',
      'log-level-console=warn',
      '',
      `[${STANZA}]`,
      `pg1-path=${cluster.dataDir}`,
      `pg1-port=${cluster.port}`,
      `pg1-socket-path=${cluster.dir}`,
      '',
    ].join('\n'),
  );
}

async function markers(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql<{ label: string }[]>`select label from pitr_markers order by id`).map((r) => r.label);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function runPitrDrill({ keepDir = false }: { keepDir?: boolean } = {}): Promise<PitrReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdao-pitr-'));
  chmodSync(dir, 0o711); // the clusters and pgBackRest run as the postgres user
  const report: PitrReport = {
    format: 'microdao-pitr-drill/1',
    result: 'fail',
    target_time: '',
    original: [],
    restored: [],
    backup_ms: 0,
    restore_ms: 0,
  };
  let original: PrivateCluster | undefined;
  let restored: PrivateCluster | undefined;
  try {
    const config = path.join(dir, 'pgbackrest.conf');
    // archive_command runs as the server's user, so it reaches the repository the same way pgbackrest below does
    original = await createPrivateCluster(path.join(dir, 'original'), {
      settings: { archive_mode: 'on', archive_command: `pgbackrest --config=${config} --stanza=${STANZA} archive-push %p`, fsync: 'off' },
    });
    writePgbackrestConfig(config, dir, original);
    await original.start();
    const pgbackrest = (args: string[]) =>
      original!.runAsOwner('pgbackrest', [`--config=${config}`, `--stanza=${STANZA}`, ...args], { timeoutMs: 300_000 });
    say(SCRIPT, `original cluster on 127.0.0.1:${original.port}, WAL archived by pgBackRest into ${dir}/repo`);
    await pgbackrest(['stanza-create']);
    await pgbackrest(['check']);
    const t0 = performance.now();
    await pgbackrest(['backup', '--type=full']);
    report.backup_ms = Math.round(performance.now() - t0);

    const sql = postgres(original.url(), { max: 1, onnotice: () => {} });
    try {
      await sql`create table pitr_markers (id serial primary key, label text not null, written_at timestamptz not null default clock_timestamp())`;
      await sql`insert into pitr_markers (label) values ('before the target time')`;
      await sleep(1100);
      const [at] = await sql<
        { t: string }[]
      >`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' as t`;
      report.target_time = at!.t;
      await sleep(1100);
      await sql`insert into pitr_markers (label) values ('after the target time')`;
      await sql`select pg_switch_wal()`;
    } finally {
      await sql.end({ timeout: 5 });
    }
    report.original = await markers(original.url());
    await pgbackrest(['check']); // waits until the switched WAL segment is in the repository
    say(SCRIPT, `markers written around ${report.target_time}; restoring a new cluster to that time`);

    const restoredDir = path.join(dir, 'restored');
    restored = await createPrivateCluster(restoredDir, { initdb: false, settings: { archive_mode: 'off', fsync: 'off' } });
    ownedDir(restored.dataDir);
    const t1 = performance.now();
    await restored.runAsOwner(
      'pgbackrest',
      [
        `--config=${config}`,
        `--stanza=${STANZA}`,
        `--pg1-path=${restored.dataDir}`,
        '--type=time',
        `--target=${report.target_time}`,
        '--target-action=promote',
        'restore',
      ],
      { timeoutMs: 300_000 },
    );
    await restored.start();
    const restoredSql = postgres(restored.url(), { max: 1, onnotice: () => {} });
    try {
      await waitUntil(
        'the restored cluster to finish recovery',
        async () => !(await restoredSql<{ r: boolean }[]>`select pg_is_in_recovery() as r`)[0]!.r,
        {
          timeoutMs: 120_000,
          intervalMs: 200,
        },
      );
    } finally {
      await restoredSql.end({ timeout: 5 });
    }
    report.restore_ms = Math.round(performance.now() - t1);
    report.restored = await markers(restored.url());
    const ok =
      report.restored.includes('before the target time') &&
      !report.restored.includes('after the target time') &&
      report.original.length === 2;
    if (!ok) throw new RecoveryError(`the restore did not cut at ${report.target_time}: it holds [${report.restored.join(', ')}]`);
    report.result = 'pass';
    return report;
  } catch (error) {
    report.failure = error instanceof Error ? error.message : String(error);
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { report });
  } finally {
    await restored?.stop('immediate');
    await original?.stop('immediate');
    if (!keepDir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: { 'dry-run': { type: 'boolean', default: false }, 'keep-dir': { type: 'boolean', default: false } },
    strict: true,
  });
  if (values['dry-run']) {
    process.stdout.write(
      [
        '# initdb a private cluster; archive_mode=on, archive_command = pgbackrest archive-push',
        '$ pgbackrest stanza-create; pgbackrest check; pgbackrest backup --type=full',
        "# insert marker 'before', take the target time, insert marker 'after', pg_switch_wal(); pgbackrest check",
        '$ pgbackrest restore --type=time --target=<target time> --target-action=promote --pg1-path=<new cluster>',
        "# start the new cluster; it must hold 'before' and not 'after'; stop both, remove the folder",
        '',
      ].join('\n'),
    );
    return;
  }
  const report = await runPitrDrill({ keepDir: values['keep-dir'] });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  say(
    SCRIPT,
    `PASS: restored to ${report.target_time}: holds [${report.restored.join(', ')}]; backup ${report.backup_ms} ms, restore ${report.restore_ms} ms`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    say(SCRIPT, `error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

// scripts/failover-drill.sh: a streaming replica (pg_basebackup -R) of a private primary takes over when the
// primary dies mid-write. Measured: commits acknowledged by the primary that the promoted replica lacks (the
// RPO asynchronous replication gave; 0 required with --sync), and the RTO from the kill to the first write
// accepted by the promoted replica. Both clusters live in a temporary folder, removed at the end.
import { chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { sleep, waitUntil } from '../../local-stack/processes.ts';
import { RecoveryError, say } from './connection.ts';
import { createPrivateCluster, ownedDir, type PrivateCluster } from './private-cluster.ts';

const SCRIPT = 'failover-drill';

export interface FailoverReport {
  format: 'microdao-failover-drill/1';
  result: 'pass' | 'fail';
  replication: 'async' | 'sync';
  /** Inserts the primary acknowledged (committed) before it was killed. */
  acknowledged: number;
  /** Of those, how many the promoted replica holds. */
  on_replica: number;
  lost: number;
  /** Kill → promoted replica accepted a write. */
  rto_ms: number;
  failure?: string;
}

export async function runFailoverDrill({ sync, writeMs = 1500 }: { sync: boolean; writeMs?: number }): Promise<FailoverReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdao-failover-'));
  chmodSync(dir, 0o711); // the clusters run as the postgres user
  const report: FailoverReport = {
    format: 'microdao-failover-drill/1',
    result: 'fail',
    replication: sync ? 'sync' : 'async',
    acknowledged: 0,
    on_replica: 0,
    lost: 0,
    rto_ms: 0,
  };
  let primary: PrivateCluster | undefined;
  let replica: PrivateCluster | undefined;
  try {
    primary = await createPrivateCluster(path.join(dir, 'primary'), { settings: { fsync: 'off' } });
    await primary.start();
    const setup = postgres(primary.url(), { max: 1, onnotice: () => {} });
    await setup`create table failover_writes (id bigint primary key, written_at timestamptz not null default clock_timestamp())`;
    await setup.end();

    replica = await createPrivateCluster(path.join(dir, 'replica'), { initdb: false, settings: { fsync: 'off' } });
    ownedDir(replica.dataDir);
    chmodSync(replica.dataDir, 0o700);
    await replica.runAsOwner(path.join(replica.binDir, 'pg_basebackup'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      replica.dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    await replica.start();
    const replicaSql = postgres(replica.url(), { max: 1, onnotice: () => {} });
    await waitUntil(
      'the replica to stream from the primary',
      async () => {
        const check = postgres(primary!.url(), { max: 1, onnotice: () => {} });
        try {
          return (await check`select 1 from pg_stat_replication where state = 'streaming'`).length > 0;
        } finally {
          await check.end();
        }
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    if (sync) {
      // only once the standby streams: before that every commit would wait for it (pg_basebackup -R names it 'walreceiver')
      const admin = postgres(primary.url(), { max: 1, onnotice: () => {} });
      await admin`alter system set synchronous_standby_names = 'walreceiver'`;
      await admin`select pg_reload_conf()`;
      await waitUntil(
        'the standby to be synchronous',
        async () => (await admin`select 1 from pg_stat_replication where sync_state = 'sync'`).length > 0,
        {
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      await admin.end();
    }
    say(SCRIPT, `primary 127.0.0.1:${primary.port} → replica 127.0.0.1:${replica.port} (${report.replication})`);

    // one writer commits as fast as it can; an insert counts only once the primary acknowledged it
    const writer = postgres(primary.url(), { max: 1, onnotice: () => {}, connect_timeout: 2 });
    const acknowledged: number[] = [];
    let stop = false;
    const writing = (async () => {
      for (let id = 1; !stop; id += 1) {
        try {
          await writer`insert into failover_writes (id) values (${id})`;
          acknowledged.push(id);
        } catch {
          return; // the primary is gone
        }
      }
    })();
    await sleep(writeMs);
    const killedAt = performance.now();
    await primary.stop('immediate'); // a crash: no shutdown checkpoint, the writer's connection cut
    stop = true;
    await writing;
    await writer.end({ timeout: 1 }).catch(() => undefined);

    await replica.runAsOwner(path.join(replica.binDir, 'pg_ctl'), ['-D', replica.dataDir, '-w', '-t', '60', 'promote']);
    await waitUntil(
      'the promoted replica to accept a write',
      async () => {
        try {
          await replicaSql`insert into failover_writes (id) values (-1)`;
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    report.rto_ms = Math.round(performance.now() - killedAt);
    const present = new Set(
      (await replicaSql<{ id: string }[]>`select id::text from failover_writes where id > 0`).map((r) => Number(r.id)),
    );
    await replicaSql.end();
    report.acknowledged = acknowledged.length;
    report.on_replica = acknowledged.filter((id) => present.has(id)).length;
    report.lost = report.acknowledged - report.on_replica;
    if (report.acknowledged === 0) throw new RecoveryError('the primary acknowledged no write before the kill: nothing was measured');
    if (sync && report.lost > 0) throw new RecoveryError(`synchronous replication lost ${report.lost} acknowledged commits`);
    report.result = 'pass';
    return report;
  } catch (error) {
    report.failure = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    await replica?.stop('immediate');
    await primary?.stop('immediate');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      sync: { type: 'boolean', default: false },
      'write-ms': { type: 'string', default: '1500' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values['dry-run']) {
    process.stdout.write(
      [
        `# initdb a primary${values.sync ? " with synchronous_standby_names = 'walreceiver'" : ''}; pg_basebackup -R -X stream a replica; wait until it streams`,
        `# one writer inserts for ${values['write-ms']} ms, counting acknowledged commits; pg_ctl stop -m immediate the primary`,
        '$ pg_ctl promote (replica); time until it accepts a write; count acknowledged commits it lacks',
        '',
      ].join('\n'),
    );
    return;
  }
  const report = await runFailoverDrill({ sync: values.sync, writeMs: Number(values['write-ms']) });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  say(
    SCRIPT,
    `PASS (${report.replication}): ${report.acknowledged} acknowledged, ${report.lost} lost on failover, RTO ${report.rto_ms} ms`,
  );
}

main().catch((error: unknown) => {
  say(SCRIPT, `error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

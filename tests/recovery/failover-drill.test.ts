// Streaming-replica failover through scripts/failover-drill.sh: the primary is killed mid-write, the replica
// promoted; acknowledged commits it lacks are counted (0 required under synchronous replication) and the RTO
// measured. Figures are printed for docs/recovery.md.
import { describe, expect, it } from 'vitest';
import type { FailoverReport } from '../../scripts/lib/recovery/failover-drill.ts';
import { runScript } from '../delivery/fixtures.ts';

const drill = async (args: string[]) => {
  const run = await runScript('scripts/failover-drill.sh', args, { timeoutMs: 180_000 });
  expect(run.code, run.output).toBe(0);
  const report = JSON.parse(run.stdout) as FailoverReport;
  console.log(
    `failover drill (${report.replication}): ${report.acknowledged} commits acknowledged, ${report.lost} lost, RTO ${report.rto_ms} ms`,
  );
  return report;
};

describe('scripts/failover-drill.sh', () => {
  it('synchronous replication: the promoted replica holds every commit the primary acknowledged before it died', async () => {
    const report = await drill(['--sync']);
    expect(report.result).toBe('pass');
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.lost).toBe(0);
    expect(report.on_replica).toBe(report.acknowledged);
    expect(report.rto_ms).toBeGreaterThan(0);
  }, 200_000);

  it('asynchronous replication: promotes and reports how many acknowledged commits the replica lacked', async () => {
    const report = await drill([]);
    expect(report.result).toBe('pass');
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.lost).toBe(report.acknowledged - report.on_replica);
    expect(report.lost).toBeGreaterThanOrEqual(0);
  }, 200_000);
});

// The event bus survives losing its stream leader: scripts/nats-r3-drill.sh on a three-node local cluster with
// the production stream settings (R3), the leader killed mid-run, every event stored once and in order.
import { describe, expect, it } from 'vitest';
import type { NatsDrillReport } from '../../scripts/lib/recovery/nats-r3-drill.ts';
import { runScript } from '../delivery/fixtures.ts';

describe('scripts/nats-r3-drill.sh', () => {
  it('kills the R3 stream leader during publishing: 0 events lost, 0 duplicated, order kept per aggregate', async () => {
    const run = await runScript('scripts/nats-r3-drill.sh', ['--events', '300'], { timeoutMs: 180_000 });
    expect(run.code, run.output).toBe(0);
    const report = JSON.parse(run.stdout) as NatsDrillReport;
    expect(report).toMatchObject({ result: 'pass', events: 300, stored: 300, lost: 0, duplicated: 0, out_of_order: 0 });
    expect(report.killed_leader).toMatch(/^drill-n[123]$/);
    expect(report.new_leader).not.toBe(report.killed_leader);
    console.log(
      `NATS R3 drill: leader ${report.killed_leader} killed → ${report.new_leader}; ${report.retried_publishes} publishes retried, longest wait ${report.longest_publish_ms} ms; 0 lost, 0 duplicated`,
    );
  }, 200_000);

  it('refuses a nonsensical event count', async () => {
    const run = await runScript('scripts/nats-r3-drill.sh', ['--events', '5']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--events must be an integer of at least 30/);
  });
});

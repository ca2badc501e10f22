// Point-in-time recovery with pgBackRest, end to end through scripts/pitr-drill.sh: a new cluster restored to a
// time between two marker rows holds the first and not the second.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PitrReport } from '../../scripts/lib/recovery/pitr-drill.ts';
import { runScript } from '../delivery/fixtures.ts';

const pgbackrestMissing = spawnSync('pgbackrest', ['version']).status !== 0;

describe.skipIf(pgbackrestMissing)(
  'scripts/pitr-drill.sh (skipped only when pgBackRest is missing: scripts/setup.sh --for test installs it)',
  () => {
    it('restores a new cluster to a timestamp: the row written before it is there, the row after it is not', async () => {
      const run = await runScript('scripts/pitr-drill.sh', [], { timeoutMs: 400_000 });
      expect(run.code, run.output).toBe(0);
      const report = JSON.parse(run.stdout) as PitrReport;
      expect(report.result).toBe('pass');
      expect(report.original).toEqual(['before the target time', 'after the target time']);
      expect(report.restored).toEqual(['before the target time']);
      console.log(`PITR drill: cut at ${report.target_time}; full backup ${report.backup_ms} ms, restore + replay ${report.restore_ms} ms`);
    }, 420_000);

    it('--dry-run prints the plan', async () => {
      const run = await runScript('scripts/pitr-drill.sh', ['--dry-run']);
      expect(run.code, run.output).toBe(0);
      expect(run.stdout).toMatch(/pgbackrest restore --type=time --target=/);
    });
  },
);

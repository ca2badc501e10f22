// Expand → migrate → contract: the previous release's own messaging tests (its code, its tests, its seed) pass on
// a database migrated with this checkout's migrations — what a canary or a blue-green handover relies on. The
// whole of its tests/api runs with `scripts/previous-release-check.sh` (minutes; not in the suite).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the previous release on the new schema', () => {
  it('passes its messaging tests', { timeout: 300_000 }, async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        path.join(ROOT, 'scripts/previous-release-check.sh'),
        ['--tests', 'tests/api/messaging.test.ts'],
        { cwd: ROOT, timeout: 280_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/previous-release-check: the release [0-9a-f]{7,}/);
    expect(output).toMatch(/Tests\s+\d+ passed \(\d+\)/);
    expect(output).not.toMatch(/failed/);
  });
});

// scripts/rollout-workers.sh: the kubectl commands of a blue-green worker rollout (dry run), its guards, and —
// with a kubectl stand-in that records its arguments and reports one Deployment as never becoming ready — that a
// failed rollout is undone for every worker it changed. (No cluster runs here; tests/deploy/k8s.test.ts
// validates the manifests, tests/relay/handover.test.ts the overlap of two versions.)
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKER_IMAGES } from '../../workers/images.ts';
import { removeTempDirs, runScript, tempDir } from '../delivery/fixtures.ts';

afterAll(removeTempDirs);
const workers = WORKER_IMAGES.map((image) => image.name);
const commands = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('$ '))
    .map((line) => line.slice(2));

describe('scripts/rollout-workers.sh', () => {
  it('sets every worker’s image, then waits for each rollout (dry run)', async () => {
    const digest = `@sha256:${'ab'.repeat(32)}`;
    const result = await runScript('scripts/rollout-workers.sh', [
      'deploy',
      '--env',
      'staging',
      '--registry',
      'ghcr.io/microdao',
      '--tag',
      digest,
      '--dry-run',
    ]);
    expect(result.code, result.output).toBe(0);
    expect(commands(result.stdout)).toEqual([
      ...workers.map((w) => `kubectl -n microdao-staging set image deployment/${w} ${w}=ghcr.io/microdao/microdao-${w}${digest}`),
      ...workers.map((w) => `kubectl -n microdao-staging rollout status deployment/${w} --timeout=10m`),
    ]);
  });

  it('refuses prod without --yes-prod, a malformed tag, and a missing registry', async () => {
    const cases: [string[], RegExp][] = [
      [['deploy', '--env', 'prod', '--registry', 'r', '--tag', 't'], /refusing to roll the workers out in prod without --yes-prod/],
      [['deploy', '--env', 'staging', '--registry', 'r', '--tag', 'bad tag!', '--dry-run'], /--tag must be an image tag or @sha256/],
      [['deploy', '--env', 'staging', '--tag', 't', '--dry-run'], /--registry is required/],
      [['sideways', '--env', 'staging'], /unknown command 'sideways'/],
    ];
    for (const [args, message] of cases) {
      const result = await runScript('scripts/rollout-workers.sh', args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr).toMatch(message);
    }
  });

  it('undoes every changed worker when one never becomes ready', async () => {
    const bin = tempDir('kubectl');
    const log = path.join(bin, 'calls.log');
    // a kubectl stand-in: records each call; consumer-telemetry's rollout never becomes ready
    writeFileSync(
      path.join(bin, 'kubectl'),
      `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> '${log}'\n[[ "$*" == *"rollout status deployment/consumer-telemetry"* ]] && exit 1\nexit 0\n`,
    );
    chmodSync(path.join(bin, 'kubectl'), 0o755);
    const result = await runScript('scripts/rollout-workers.sh', ['deploy', '--env', 'staging', '--registry', 'r.example', '--tag', 'v2'], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rollout of v2 failed at consumer-telemetry and was undone/);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.filter((c) => c.includes('rollout undo'))).toEqual(workers.map((w) => `-n microdao-staging rollout undo deployment/${w}`));
    // it stopped waiting at the first failure
    expect(calls.some((c) => c.includes(`rollout status deployment/${workers.at(-1)}`))).toBe(workers.at(-1) === 'consumer-telemetry');
  });
});

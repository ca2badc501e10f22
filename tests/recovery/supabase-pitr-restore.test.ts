// The guards in front of `supabase backups restore` (there is no account in tests: everything here is refused
// or a dry run, and the dry run shows the exact CLI call).
import { describe, expect, it } from 'vitest';
import { runScript } from '../delivery/fixtures.ts';

const REF = 'abcdefghijklmnopqrst';
const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
const restore = (args: string[]) => runScript('scripts/supabase-pitr-restore.sh', args, { env: { SUPABASE_ACCESS_TOKEN: undefined } });

describe('scripts/supabase-pitr-restore.sh', () => {
  it('--dry-run prints the pinned CLI call with the target as seconds since the epoch', async () => {
    const at = anHourAgo();
    const run = await restore(['--env', 'prod', '--project-ref', REF, '--confirm-project', REF, '--timestamp', at, '--dry-run']);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain(
      `node_modules/.bin/supabase backups restore --project-ref ${REF} --timestamp ${Date.parse(at) / 1000} --yes`,
    );
  });

  it('refuses when the confirmation is not the same project', async () => {
    const run = await restore([
      '--env',
      'staging',
      '--project-ref',
      REF,
      '--confirm-project',
      'zyxwvutsrqponmlkjihg',
      '--timestamp',
      anHourAgo(),
      '--dry-run',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--confirm-project does not match --project-ref/);
  });

  it('refuses prod without --yes-prod, a future target and one outside the PITR window', async () => {
    const base = ['--project-ref', REF, '--confirm-project', REF];
    const prod = await restore(['--env', 'prod', ...base, '--timestamp', anHourAgo()]);
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/refusing to restore the prod database .* without --yes-prod/);
    const future = await restore(['--env', 'staging', ...base, '--timestamp', String(Math.floor(Date.now() / 1000) + 3600), '--dry-run']);
    expect(future.stderr).toMatch(/is in the future/);
    const old = await restore(['--env', 'staging', ...base, '--timestamp', '2020-01-01T00:00:00Z', '--dry-run']);
    expect(old.stderr).toMatch(/older than 7 days, outside the PITR window/);
  });
});

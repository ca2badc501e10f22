// scripts/canary.sh without an account (--dry-run): the commands of deploying the next release beside the
// current one, promoting it and rolling it back, and the guards. The flag and Prometheus steps run for real in
// tests/monitoring/canary.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { goodConfig, removeTempDirs, runScript, writeEnvFile } from './fixtures.ts';

const NO_TOKENS = { SUPABASE_ACCESS_TOKEN: undefined, MICRODAO_OPERATOR_TOKEN: undefined };
const commands = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => /^\s*\$ /.test(line))
    .map((line) => line.trim().slice(2));
const canary = (args: string[], env: Record<string, string | undefined> = NO_TOKENS) => runScript('scripts/canary.sh', args, { env });
afterAll(removeTempDirs);

describe('scripts/canary.sh', () => {
  const ref = goodConfig('staging').SUPABASE_PROJECT_REF!;

  it('deploy: the release label, this checkout as api-canary beside api, then a smoke check of the canary', async () => {
    const staging = writeEnvFile(goodConfig('staging'));
    const result = await canary(['deploy', '--env', 'staging', '--env-file', staging, '--release', 'abc1234', '--dry-run']);
    expect(result.code, result.output).toBe(0);
    expect(commands(result.stdout)).toEqual([
      `node_modules/.bin/supabase secrets set CANARY_RELEASE=abc1234 --project-ref ${ref}`,
      `node_modules/.bin/supabase functions deploy api-canary --project-ref ${ref} --use-api`,
      `scripts/smoke.sh --env staging --env-file ${staging} --base-url https://${ref}.supabase.co/functions/v1/api-canary`,
    ]);
  });

  it('promote: the canary’s code deployed as api under its release, then everyone back on api', async () => {
    const staging = writeEnvFile(goodConfig('staging'));
    const result = await canary(['promote', '--env', 'staging', '--env-file', staging, '--release', 'abc1234', '--dry-run']);
    expect(result.code, result.output).toBe(0);
    expect(commands(result.stdout)).toEqual([
      `node_modules/.bin/supabase secrets set RELEASE=abc1234 --project-ref ${ref}`,
      `node_modules/.bin/supabase functions deploy api --project-ref ${ref} --use-api`,
      `node --import tsx scripts/lib/canary-control.ts ramp --api https://${ref}.supabase.co/functions/v1 --percent 0`,
    ]);
  });

  it('ramp, rollback and watch go through the gateway as the operator', async () => {
    const staging = writeEnvFile(goodConfig('staging'));
    const ramp = await canary(['ramp', '--env', 'staging', '--env-file', staging, '--percent', '5', '--dry-run']);
    expect(commands(ramp.stdout)).toEqual([
      `node --import tsx scripts/lib/canary-control.ts ramp --api https://${ref}.supabase.co/functions/v1 --percent 5`,
    ]);
    const rollback = await canary(['rollback', '--env', 'local', '--api-url', 'http://127.0.0.1:54321', '--dry-run']);
    expect(commands(rollback.stdout)).toEqual([
      'node --import tsx scripts/lib/canary-control.ts ramp --api http://127.0.0.1:54321 --percent 0',
    ]);
    const watch = await canary([
      'watch',
      '--env',
      'local',
      '--api-url',
      'http://127.0.0.1:54321',
      '--prometheus',
      'http://127.0.0.1:9090',
      '--stable',
      'r1',
      '--canary',
      'r2',
      '--window',
      '5m',
      '--dry-run',
    ]);
    expect(commands(watch.stdout)).toEqual([
      'node --import tsx scripts/lib/canary-control.ts watch --api http://127.0.0.1:54321 --prometheus http://127.0.0.1:9090 --stable r1 --canary r2 --window 5m',
    ]);
  });

  it('refuses what would go wrong, with a sentence saying why', async () => {
    const prod = writeEnvFile(goodConfig('prod'));
    const cases: [string[], Record<string, string | undefined>, RegExp, number][] = [
      [
        ['deploy', '--env', 'prod', '--env-file', prod, '--release', 'abc'],
        NO_TOKENS,
        /refusing to deploy the canary in prod without --yes-prod/,
        1,
      ],
      [['deploy', '--env', 'staging', '--project-ref', ref], NO_TOKENS, /deploy needs --release/, 2],
      [['deploy', '--env', 'staging', '--project-ref', ref, '--release', 'a b'], NO_TOKENS, /--release must be 1-64 letters/, 2],
      [['deploy', '--env', 'staging', '--project-ref', ref, '--release', 'abc'], NO_TOKENS, /SUPABASE_ACCESS_TOKEN is not set/, 1],
      [
        ['ramp', '--env', 'staging', '--project-ref', ref, '--percent', '150'],
        NO_TOKENS,
        /--percent must be a whole number from 0 to 100/,
        2,
      ],
      [['ramp', '--env', 'staging', '--project-ref', ref, '--percent', '5'], NO_TOKENS, /MICRODAO_OPERATOR_TOKEN is not set/, 1],
      [['rollback', '--env', 'qa'], NO_TOKENS, /--env must be one of local, dev, staging, prod/, 2],
      [
        ['check', '--prometheus', 'http://127.0.0.1:9', '--stable', 'a', '--canary', 'b', '--window', 'soon'],
        NO_TOKENS,
        /--window must be a Prometheus duration/,
        2,
      ],
      [['explode'], NO_TOKENS, /unknown command 'explode'/, 2],
    ];
    for (const [args, env, message, code] of cases) {
      const result = await canary(args, env);
      expect(result.output, args.join(' ')).toMatch(message);
      expect(result.code, args.join(' ')).toBe(code);
    }
  });
});

// Each operator script's --help, --dry-run plan (the exact commands, never a secret value), its refusal to
// touch prod without --yes-prod, and its sentence when something it needs is missing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../functions/_shared/config.ts';
import { testServices } from '../harness/services.ts';
import { ROOT, goodConfig, removeTempDirs, runScript, tempDir, writeEnvFile } from './fixtures.ts';

afterAll(removeTempDirs);

const SCRIPTS = [
  'scripts/migrate.sh',
  'scripts/deploy_api.sh',
  'scripts/deploy_web.sh',
  'scripts/sync_secrets.sh',
  'scripts/smoke.sh',
  'scripts/env-check',
];
const NO_TOKENS = { SUPABASE_ACCESS_TOKEN: undefined, VERCEL_TOKEN: undefined };

/** The lines of a dry run that are commands (`$ ...`), in order. */
const commands = (stdout: string) =>
  stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('$ '))
    .map((line) => line.slice(2));

describe('every operator script', () => {
  for (const script of SCRIPTS) {
    it(`${script}: strict bash, --help naming --env and --dry-run`, async () => {
      const source = readFileSync(path.join(ROOT, script), 'utf8');
      expect(source).toMatch(/^#!\/usr\/bin\/env bash\n/);
      expect(source).toContain('set -euo pipefail');
      const help = await runScript(script, ['--help']);
      expect(help.code, help.output).toBe(0);
      expect(help.stdout).toMatch(/--env\b/);
      expect(help.stdout).toMatch(/--dry-run/);
    });
  }
});

describe('scripts/sync_secrets.sh', () => {
  it('dry run: names only, never a value, and the exact supabase command', async () => {
    const config: Record<string, string> = goodConfig('staging');
    const file = writeEnvFile(config);
    const result = await runScript('scripts/sync_secrets.sh', ['--env', 'staging', '--env-file', file, '--dry-run'], { env: NO_TOKENS });
    expect(result.code, result.output).toBe(0);
    for (const name of ['JWT_SECRET', 'SESSION_SECRET', 'DB_PASSWORD', 'NATS_PASSWORD', 'UPSTASH_REDIS_REST_TOKEN', 'APP_ENV']) {
      expect(result.stderr).toMatch(new RegExp(`^  ${name}$`, 'm'));
    }
    const secretValues = SECRET_VARIABLES.map((name) => config[name]).filter((value): value is string => Boolean(value));
    expect(secretValues.length).toBeGreaterThanOrEqual(6);
    for (const value of secretValues) expect(result.output).not.toContain(value);
    expect(result.stderr).toMatch(/skipping SUPABASE_URL: Supabase provides it/);
    expect(result.stderr).toMatch(/skipping VERCEL_ORG_ID: read by the deploy scripts only/);
    expect(commands(result.stdout)).toEqual([
      expect.stringMatching(/^node_modules\/\.bin\/supabase secrets set --project-ref stagingstagingstagin --env-file \/\S+$/),
    ]);
  });

  it('sends APP_ENV = the target even when the file omits it, and refuses a file meant for another environment', async () => {
    const { APP_ENV: _omitted, ...withoutAppEnv } = goodConfig('staging');
    const result = await runScript(
      'scripts/sync_secrets.sh',
      ['--env', 'staging', '--env-file', writeEnvFile(withoutAppEnv), '--dry-run'],
      {
        env: NO_TOKENS,
      },
    );
    expect(result.code, result.output).toBe(0);
    expect(result.stderr).toMatch(/^ {2}APP_ENV$/m);
    const mismatch = await runScript(
      'scripts/sync_secrets.sh',
      ['--env', 'staging', '--env-file', writeEnvFile(goodConfig('dev')), '--dry-run'],
      {
        env: NO_TOKENS,
      },
    );
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.output).toMatch(/APP_ENV is dev, but this is the staging configuration/);
  });

  it('refuses prod without --yes-prod, and an invalid configuration', async () => {
    const prodFile = writeEnvFile(goodConfig('prod'));
    const prod = await runScript('scripts/sync_secrets.sh', ['--env', 'prod', '--env-file', prodFile], { env: NO_TOKENS });
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/refusing to change the secrets in prod without --yes-prod/);
    const bad = writeEnvFile({ ...goodConfig('staging'), DB_SSLMODE: 'disable' });
    const invalid = await runScript('scripts/sync_secrets.sh', ['--env', 'staging', '--env-file', bad, '--dry-run']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/is not a valid staging configuration/);
  });

  it('refuses a secrets file that git tracks', async () => {
    const result = await runScript('scripts/sync_secrets.sh', ['--env', 'dev', '--env-file', '.env.example', '--dry-run']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\.env\.example is tracked by git; secrets must never be committed/);
  });

  it('says what is missing for a real run', async () => {
    const file = writeEnvFile(goodConfig('dev'));
    const result = await runScript('scripts/sync_secrets.sh', ['--env', 'dev', '--env-file', file], { env: NO_TOKENS });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SUPABASE_ACCESS_TOKEN is not set; create one at https:\/\/supabase.com\/dashboard\/account\/tokens/);
  });
});

describe('scripts/deploy_api.sh', () => {
  it('dry run: env-check, secrets, function deploy, relay image, smoke check, in that order', async () => {
    const file = writeEnvFile(goodConfig('staging'));
    const result = await runScript(
      'scripts/deploy_api.sh',
      ['--env', 'staging', '--env-file', file, '--relay-image', 'ghcr.io/microdao/microdao-outbox-relay:abc123', '--dry-run'],
      { env: NO_TOKENS },
    );
    expect(result.code, result.output).toBe(0);
    const ref = goodConfig('staging').SUPABASE_PROJECT_REF!;
    const top = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('$ '))
      .map((line) => line.slice(2));
    expect(top).toEqual([
      `scripts/sync_secrets.sh --env staging --env-file ${file} --project-ref ${ref}`,
      `node_modules/.bin/supabase functions deploy api --project-ref ${ref} --use-api`,
      expect.stringMatching(
        /^docker build --file workers\/outbox-relay\/Dockerfile --tag ghcr.io\/microdao\/microdao-outbox-relay:abc123 --label org\.opencontainers\.image\.revision=\S+ \.$/,
      ),
      'docker push ghcr.io/microdao/microdao-outbox-relay:abc123',
      `scripts/smoke.sh --env staging --env-file ${file} --base-url https://${ref}.supabase.co/functions/v1/api`,
    ]);
    // the sub-scripts' own plans, indented under their commands
    expect(result.stdout).toMatch(new RegExp(`^ {4}\\$ node_modules/\\.bin/supabase secrets set --project-ref ${ref}`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^ {4}GET https://${ref}\\.supabase\\.co/functions/v1/api/ready$`, 'm'));
    for (const secret of ['Zq8vN3kP0wLr7TyX2mBc', 'q3Jk9sLm2Vb8Xc7Nz1Pw4Ty6Rf0Gh5Dj', 'Smoke-Pw-4q8Zr2Lx'])
      expect(result.output).not.toContain(secret);
  });

  it('refuses prod without --yes-prod before doing anything', async () => {
    const file = writeEnvFile(goodConfig('prod'));
    const result = await runScript('scripts/deploy_api.sh', ['--env', 'prod', '--env-file', file], { env: NO_TOKENS });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to deploy the API in prod without --yes-prod/);
    expect(result.stderr).not.toMatch(/1\/5/);
  });

  it('stops at an invalid configuration, deploying nothing', async () => {
    const file = writeEnvFile({ ...goodConfig('staging'), DEV_LOGIN_ENABLED: 'true' });
    const result = await runScript('scripts/deploy_api.sh', ['--env', 'staging', '--env-file', file], { env: NO_TOKENS });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/DEV_LOGIN_ENABLED the dev login/);
    expect(result.stderr).toMatch(/is not a valid staging configuration \(see above\); nothing was deployed/);
  });

  it('rejects an unknown environment and unknown flags with exit 2', async () => {
    const env = await runScript('scripts/deploy_api.sh', ['--env', 'production']);
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/--env must be one of dev, staging, prod, not 'production'/);
    const flag = await runScript('scripts/deploy_api.sh', ['--env', 'dev', '--force']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown argument '--force'/);
  });
});

/** scripts/deploy_web.sh ACTION --env ENV --target vercel --app APP --env-file FILE [EXTRA…] */
const vercelWeb = (
  action: string,
  env: string,
  app: string,
  envFile: string,
  extra: string[] = [],
  options?: Parameters<typeof runScript>[2],
) =>
  runScript('scripts/deploy_web.sh', [action, '--env', env, '--target', 'vercel', '--app', app, '--env-file', envFile, ...extra], options);

describe('scripts/deploy_web.sh --target vercel', () => {
  it('prod dry run: pull, build, deploy --prebuilt without the domain, promote — with the pinned CLI', async () => {
    const file = writeEnvFile(goodConfig('prod'));
    const result = await vercelWeb('deploy', 'prod', 'city', file, ['--dry-run'], { env: NO_TOKENS });
    expect(result.code, result.output).toBe(0);
    expect(commands(result.stdout)).toEqual([
      'node_modules/.bin/vercel pull --yes --environment=production',
      'node_modules/.bin/vercel build --prod',
      'node_modules/.bin/vercel deploy --prebuilt --prod --skip-domain',
      'node_modules/.bin/vercel promote \\<url\\ printed\\ by\\ vercel\\ deploy\\> --yes',
    ]);
    expect(result.stderr).toMatch(/Vercel project prj_city \(city\), environment production/);
  });

  it('maps dev to preview and staging to its custom environment', async () => {
    const dev = await vercelWeb('deploy', 'dev', 'admin', writeEnvFile(goodConfig('dev')), ['--dry-run']);
    expect(commands(dev.stdout)).toEqual([
      'node_modules/.bin/vercel pull --yes --environment=preview',
      'node_modules/.bin/vercel build',
      'node_modules/.bin/vercel deploy --prebuilt',
    ]);
    const staging = await vercelWeb('deploy', 'staging', 'city', writeEnvFile(goodConfig('staging')), ['--dry-run']);
    expect(commands(staging.stdout)).toEqual([
      'node_modules/.bin/vercel pull --yes --environment=staging',
      'node_modules/.bin/vercel build --target=staging',
      'node_modules/.bin/vercel deploy --prebuilt --target=staging',
    ]);
  });

  it('rollback and promote name the deployment explicitly', async () => {
    const file = writeEnvFile(goodConfig('prod'));
    const rollback = await vercelWeb('rollback', 'prod', 'city', file, ['--to', 'https://city-abc.vercel.app', '--dry-run']);
    expect(commands(rollback.stdout)).toEqual(['node_modules/.bin/vercel rollback https://city-abc.vercel.app --yes']);
    const noTarget = await vercelWeb('rollback', 'prod', 'city', file, ['--dry-run']);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/--to DEPLOYMENT_URL is required/);
  });

  it('needs VERCEL_TOKEN and the project ids for a real run, and --yes-prod for prod', async () => {
    const file = writeEnvFile(goodConfig('staging'));
    const noToken = await vercelWeb('deploy', 'staging', 'city', file, [], { env: NO_TOKENS });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/VERCEL_TOKEN is not set; create a token at https:\/\/vercel.com\/account\/tokens/);
    const { VERCEL_PROJECT_ID_ADMIN: _admin, ...withoutAdmin } = goodConfig('staging');
    const noProject = await vercelWeb('deploy', 'staging', 'admin', writeEnvFile(withoutAdmin), ['--dry-run']);
    expect(noProject.code).toBe(1);
    expect(noProject.stderr).toMatch(/VERCEL_PROJECT_ID_ADMIN is not set/);
    const prod = await vercelWeb('deploy', 'prod', 'city', writeEnvFile(goodConfig('prod')), [], { env: NO_TOKENS });
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/refusing to deploy the vercel web in prod without --yes-prod/);
  });
});

describe('scripts/smoke.sh', () => {
  it('dry run lists the requests, signing in through Supabase Auth in the cloud and never showing the password', async () => {
    const file = writeEnvFile(goodConfig('staging'));
    const result = await runScript('scripts/smoke.sh', ['--env', 'staging', '--env-file', file, '--checklist', '--dry-run']);
    expect(result.code, result.output).toBe(0);
    const api = 'https://stagingstagingstagin.supabase.co/functions/v1/api';
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`GET ${api}/health`);
    expect(lines[1]).toBe(`GET ${api}/ready`);
    expect(lines[2]).toBe(
      `POST https://stagingstagingstagin.supabase.co/auth/v1/token?grant_type=password {"email":"smoke@microdao.example","password":"***"}`,
    );
    expect(result.stdout).toMatch(new RegExp(`^POST ${api}/channels `, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^POST ${api}/messages `, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^POST ${api}/channels/<channel>/archive$`, 'm'));
    expect(result.output).not.toContain('Smoke-Pw-4q8Zr2Lx');
  });

  it('refuses to write to prod without --yes-prod, but may read it', async () => {
    const file = writeEnvFile(goodConfig('prod'));
    const write = await runScript('scripts/smoke.sh', ['--env', 'prod', '--env-file', file]);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/without --yes-prod/);
    const read = await runScript('scripts/smoke.sh', ['--env', 'prod', '--env-file', file, '--read-only', '--dry-run']);
    expect(read.code, read.output).toBe(0);
    expect(read.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('fails with a sentence when the API does not answer', async () => {
    const result = await runScript('scripts/smoke.sh', ['--env', 'local', '--base-url', 'http://127.0.0.1:9/api', '--timeout', '3']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+health\s+GET http:\/\/127\.0\.0\.1:9\/api\/health failed/);
    expect(result.stdout).toMatch(/SKIPPED\s+readiness/);
    expect(result.stderr).toMatch(/the local deployment at http:\/\/127\.0\.0\.1:9\/api failed its smoke check/);
  });
});

describe('scripts/migrate.sh', () => {
  it('refuses to write to prod without --yes-prod, before connecting anywhere', async () => {
    for (const command of ['up', 'down', 'backup']) {
      const result = await runScript('scripts/migrate.sh', [
        command,
        '--env',
        'prod',
        '--db-url',
        'postgresql://postgres@127.0.0.1:9/nowhere',
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`refusing to run '${command}' in prod without --yes-prod`));
    }
  });

  it('refuses demo data outside local and test', async () => {
    const result = await runScript('scripts/migrate.sh', [
      'seed',
      '--env',
      'staging',
      '--db-url',
      'postgresql://postgres@127.0.0.1:9/nowhere',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to load demo data into the staging environment/);
  });

  it('builds the target from the environment file, refusing one that breaks its rules', async () => {
    const file = writeEnvFile({ ...goodConfig('staging'), DB_SSLMODE: 'disable' });
    const result = await runScript('scripts/migrate.sh', ['status', '--env', 'staging', '--env-file', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DB_SSLMODE is disable; staging connects to Postgres over TLS only/);
    expect(result.stderr).toMatch(/the staging configuration is not valid \(see above\); fix it or pass --db-url/);
  });

  it('masks the password of the database URL in the commands it prints', async () => {
    const dir = tempDir('mask');
    const url = new URL(testServices.postgresAdminUrl);
    url.password = 'Hunter2Hunter2'; // trust auth locally: any password gets in
    const result = await runScript('scripts/migrate.sh', [
      'backup',
      '--env',
      'dev',
      '--db-url',
      url.toString(),
      '--backup-dir',
      dir,
      '--dry-run',
    ]);
    expect(result.code, result.output).toBe(0);
    expect(commands(result.stdout)).toEqual([
      `mkdir -p ${dir}`,
      expect.stringMatching(
        // the password left the URL altogether (it travels as PGPASSWORD)
        new RegExp(`^pg_dump --format=custom --no-owner --file ${dir}/dev-\\d{8}T\\d{6}Z\\.dump postgresql://postgres@`),
      ),
      expect.stringMatching(/^pg_restore --list \S+\.dump -f \/dev\/null$/),
    ]);
    expect(result.output).not.toContain('Hunter2Hunter2');
  });
});

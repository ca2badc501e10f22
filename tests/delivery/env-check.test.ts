// Configuration per environment: the matrix of good and bad configurations through the same rules the
// processes apply at start, scripts/env-check as an operator runs it, and .env.example kept complete.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readEnvFile } from '../../functions/_shared/env-file.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, SECRET_VARIABLES, parseConfig } from '../../functions/_shared/config.ts';
import { checkEnvironment } from '../../scripts/lib/env-check.ts';
import { ROOT, goodConfig, removeTempDirs, runScript, tempDir, writeEnvFile } from './fixtures.ts';

afterAll(removeTempDirs);

const ENVS = ['local', 'test', 'dev', 'staging', 'prod'] as const;
type Env = (typeof ENVS)[number];
const STRICT: Env[] = ['staging', 'prod'];
/** Everywhere but a laptop or CI: dev is on the internet too, so its secrets must be real. */
const NON_LOCAL: Env[] = ['dev', ...STRICT];

function mountedSecret(value: string): string {
  const file = path.join(tempDir('secret'), 'secret');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}

function problemsFor(env: Env, changes: Record<string, string | undefined>) {
  const source: Record<string, string | undefined> = { ...goodConfig(env), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete source[key];
  return checkEnvironment(env, source, true).problems;
}

describe('env-check: a good configuration per environment', () => {
  for (const env of ENVS) {
    it(`accepts the reference ${env} configuration`, () => {
      expect(problemsFor(env, {})).toEqual([]);
    });
  }
});

interface BadCase {
  envs: Env[];
  what: string;
  changes: Record<string, string | undefined>;
  variable: string;
  problem: RegExp;
}

const badCases: BadCase[] = [
  { envs: STRICT, what: 'Postgres without TLS', changes: { DB_SSLMODE: 'disable' }, variable: 'DB_SSLMODE', problem: /TLS only/ },
  { envs: STRICT, what: 'sslmode prefer', changes: { DB_SSLMODE: 'prefer' }, variable: 'DB_SSLMODE', problem: /TLS only/ },
  {
    envs: ['dev', ...STRICT],
    what: 'the dev login',
    changes: { DEV_LOGIN_ENABLED: 'true' },
    variable: 'DEV_LOGIN_ENABLED',
    problem: /cannot run in/,
  },
  { envs: STRICT, what: 'a localhost database', changes: { DB_HOST: 'localhost' }, variable: 'DB_HOST', problem: /points at this machine/ },
  { envs: STRICT, what: 'a loopback NATS', changes: { NATS_URL: 'nats://127.0.0.1:4222' }, variable: 'NATS_URL', problem: /this machine/ },
  {
    envs: STRICT,
    what: 'a local Redis with a password in its URL',
    changes: { REDIS_URL: 'redis://:hunter2hunter2@localhost:6379' },
    variable: 'REDIS_URL',
    problem: /this machine \(redis:\/\/localhost:6379\)/,
  },
  {
    envs: STRICT,
    what: 'a local Supabase',
    changes: { SUPABASE_URL: 'http://127.0.0.1:54321' },
    variable: 'SUPABASE_URL',
    problem: /this machine/,
  },
  {
    envs: STRICT,
    what: 'an http web origin',
    changes: { WEB_ORIGINS: 'http://city.microdao.example' },
    variable: 'WEB_ORIGINS',
    problem: /only https/,
  },
  { envs: STRICT, what: 'no web origins', changes: { WEB_ORIGINS: '' }, variable: 'WEB_ORIGINS', problem: /is empty/ },
  {
    envs: NON_LOCAL,
    what: 'a short JWT secret',
    changes: { JWT_SECRET: 'Sh0rtS3cr3tXyz12' },
    variable: 'JWT_SECRET',
    problem: /16 characters; it needs at least 32/,
  },
  {
    envs: NON_LOCAL,
    what: 'the published example JWT secret',
    changes: { JWT_SECRET: 'local-development-jwt-secret-change-me-0123456789' },
    variable: 'JWT_SECRET',
    problem: /published placeholder/,
  },
  {
    envs: NON_LOCAL,
    what: "Supabase's local default JWT secret",
    changes: { JWT_SECRET: 'super-secret-jwt-token-with-at-least-32-characters-long' },
    variable: 'JWT_SECRET',
    problem: /published placeholder/,
  },
  {
    envs: NON_LOCAL,
    what: 'a repetitive session secret',
    changes: { SESSION_SECRET: 'ab'.repeat(24) },
    variable: 'SESSION_SECRET',
    problem: /distinct characters/,
  },
  {
    envs: NON_LOCAL,
    what: 'a published NATS password',
    changes: { NATS_PASSWORD: 'change-me-nats-password-0123' },
    variable: 'NATS_PASSWORD',
    problem: /published placeholder/,
  },
  {
    envs: NON_LOCAL,
    what: 'a missing JWT issuer',
    changes: { JWT_ISSUER: undefined },
    variable: 'JWT_ISSUER',
    problem: /is missing; .* accepts only tokens its own Supabase project issued/,
  },
  {
    envs: STRICT,
    what: 'a missing session secret',
    changes: { SESSION_SECRET: undefined },
    variable: 'SESSION_SECRET',
    problem: /is missing/,
  },
  {
    envs: NON_LOCAL,
    what: 'a weak webhook secret',
    changes: { EMBASSY_WEBHOOK_SECRET_GREENFOOD: 'greenfood' },
    variable: 'EMBASSY_WEBHOOK_SECRET_GREENFOOD',
    problem: /at least 32/,
  },
  {
    envs: NON_LOCAL,
    what: 'a short database password',
    changes: { DB_PASSWORD: 'postgres123' },
    variable: 'DB_PASSWORD',
    problem: /at least 16/,
  },
  { envs: STRICT, what: 'no database password', changes: { DB_PASSWORD: undefined }, variable: 'DB_PASSWORD', problem: /is missing/ },
  {
    envs: STRICT,
    what: 'NATS without credentials',
    changes: { NATS_USER: undefined, NATS_PASSWORD: undefined },
    variable: 'NATS_PASSWORD',
    problem: /is missing/,
  },
  {
    envs: STRICT,
    what: 'implicit rate limits',
    changes: { RATE_LIMIT_GLOBAL: undefined },
    variable: 'RATE_LIMIT_GLOBAL',
    problem: /explicitly/,
  },
  {
    envs: STRICT,
    what: 'no store for the rate limits',
    changes: { UPSTASH_REDIS_REST_URL: undefined, UPSTASH_REDIS_REST_TOKEN: undefined },
    variable: 'UPSTASH_REDIS_REST_URL',
    problem: /no store for its rate limits/,
  },
  {
    envs: STRICT,
    what: 'the wallet key in the env file',
    changes: { WALLET_PRIVATE_KEY: `0x${'ab12'.repeat(16)}` },
    variable: 'WALLET_PRIVATE_KEY',
    problem: /only from a KMS or secret manager/,
  },
  {
    envs: STRICT,
    what: 'no project ref',
    changes: { SUPABASE_PROJECT_REF: undefined },
    variable: 'SUPABASE_PROJECT_REF',
    problem: /is missing/,
  },
  {
    envs: ENVS.slice(),
    what: 'a malformed project ref',
    changes: { SUPABASE_PROJECT_REF: 'My-Project' },
    variable: 'SUPABASE_PROJECT_REF',
    problem: /20-letter/,
  },
  {
    envs: ENVS.slice(),
    what: 'a port that is not a number',
    changes: { DB_PORT: 'five-four-three-two' },
    variable: 'DB_PORT',
    problem: /is invalid/,
  },
  {
    envs: ENVS.slice(),
    what: 'an unknown APP_ENV value',
    changes: { APP_ENV: 'production' },
    variable: 'APP_ENV',
    problem: /is production, but this is the/,
  },
  {
    envs: ENVS.slice(),
    what: 'a typo in a variable name',
    changes: { DB_SSL_MODE: 'require' },
    variable: 'DB_SSL_MODE',
    problem: /not a variable the platform reads/,
  },
  {
    envs: ENVS.slice(),
    what: 'an Upstash URL without its token',
    changes: { UPSTASH_REDIS_REST_URL: 'https://eu1-x.upstash.io', UPSTASH_REDIS_REST_TOKEN: undefined },
    variable: 'UPSTASH_REDIS_REST_TOKEN',
    problem: /partner is set/,
  },
  {
    envs: ENVS.slice(),
    what: 'a malformed Safe address',
    changes: { WALLET_SAFE_ADDRESS: '0x1234' },
    variable: 'WALLET_SAFE_ADDRESS',
    problem: /20-byte hex address/,
  },
];

describe('env-check: bad configurations per environment', () => {
  for (const bad of badCases) {
    for (const env of bad.envs) {
      it(`refuses ${bad.what} in ${env}`, () => {
        const problems = problemsFor(env, bad.changes);
        const match = problems.find((p) => p.variable === bad.variable && bad.problem.test(p.problem));
        expect(match, JSON.stringify(problems, null, 2)).toBeDefined();
        expect(match!.fix.length).toBeGreaterThan(10);
      });
    }
  }

  it('accepts published secrets and no issuer in local and test, and refuses them from dev on', () => {
    const demo = { JWT_SECRET: 'local-development-jwt-secret-change-me-0123456789', JWT_ISSUER: undefined, NATS_PASSWORD: 'secret' };
    for (const env of ['local', 'test'] as const) expect(problemsFor(env, demo)).toEqual([]);
    for (const env of NON_LOCAL) {
      expect(problemsFor(env, demo).map((p) => p.variable)).toEqual(expect.arrayContaining(['JWT_SECRET', 'JWT_ISSUER', 'NATS_PASSWORD']));
    }
  });

  it("names the project's own issuer in the fix for a missing JWT_ISSUER", () => {
    const problem = problemsFor('dev', { JWT_ISSUER: undefined }).find((p) => p.variable === 'JWT_ISSUER');
    expect(problem?.fix).toContain('JWT_ISSUER=https://devdevdevdevdevdevde.supabase.co/auth/v1');
    expect(problem?.fix).toContain('https://<ref>.supabase.co/auth/v1');
  });

  it('accepts on a laptop what it refuses in prod', () => {
    const laptopOnly = {
      DB_SSLMODE: 'disable',
      DB_HOST: 'localhost',
      DEV_LOGIN_ENABLED: 'true',
      WALLET_PRIVATE_KEY: `0x${'ab12'.repeat(16)}`,
    };
    expect(problemsFor('local', laptopOnly)).toEqual([]);
    expect(problemsFor('prod', laptopOnly).map((p) => p.variable)).toEqual(
      expect.arrayContaining(['DB_SSLMODE', 'DB_HOST', 'DEV_LOGIN_ENABLED', 'WALLET_PRIVATE_KEY']),
    );
  });

  it('takes the prod wallet key from a mounted secret file, never from the env file', () => {
    const key = `0x${'cd34'.repeat(16)}`;
    expect(problemsFor('prod', { WALLET_PRIVATE_KEY_FILE: mountedSecret(key) })).toEqual([]);
    const both = problemsFor('prod', { WALLET_PRIVATE_KEY_FILE: mountedSecret(key), WALLET_PRIVATE_KEY: key });
    expect(both.map((p) => p.variable)).toContain('WALLET_PRIVATE_KEY_FILE');
    const missing = problemsFor('prod', { WALLET_PRIVATE_KEY_FILE: '/run/secrets/does-not-exist' });
    expect(missing[0]).toMatchObject({ variable: 'WALLET_PRIVATE_KEY_FILE', problem: expect.stringMatching(/cannot be read/) });
  });

  it('reads a mounted secret once and keeps it in memory', () => {
    const file = mountedSecret('Mounted-session-secret-Qw8Er4Ty2Ui6Op0As');
    const reads: string[] = [];
    const readSecretFile = (p: string) => {
      reads.push(p);
      return readFileSync(p, 'utf8');
    };
    const source = { ...goodConfig('prod'), SESSION_SECRET: undefined, SESSION_SECRET_FILE: file };
    const first = parseConfig(source, { readSecretFile });
    const second = parseConfig(source, { readSecretFile });
    expect(first.ok && second.ok).toBe(true);
    if (first.ok) expect(first.config.SESSION_SECRET).toBe('Mounted-session-secret-Qw8Er4Ty2Ui6Op0As');
    expect(reads).toEqual([file]);
  });

  it('refuses NAME_FILE where the runtime reads no files (edge functions)', () => {
    const result = parseConfig({ ...goodConfig('prod'), SESSION_SECRET: undefined, SESSION_SECRET_FILE: '/run/secrets/session' });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems[0]).toMatchObject({ variable: 'SESSION_SECRET_FILE', fix: expect.stringMatching(/supabase secrets set/) });
  });

  it('never repeats a secret value in its messages', () => {
    const secret = 'Sh0rtS3cr3tXyz12';
    const problems = problemsFor('prod', { JWT_SECRET: secret, REDIS_URL: 'redis://:Pa55w0rdInUrl9@localhost:6379' });
    const text = JSON.stringify(problems);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('Pa55w0rdInUrl9');
  });
});

describe('scripts/env-check', () => {
  it('prints every violation of .env.example as a prod configuration at once, each with its fix, and exits 1', async () => {
    const result = await runScript('scripts/env-check', ['--env', 'prod', '--env-file', '.env.example']);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    const violations = lines.filter((line) => line.trimStart().startsWith('✗'));
    const variables = new Set(violations.map((line) => line.trim().split(' ')[1]));
    for (const variable of ['APP_ENV', 'DEV_LOGIN_ENABLED', 'DB_SSLMODE', 'DB_PASSWORD', 'JWT_SECRET', 'DB_HOST', 'WEB_ORIGINS']) {
      expect(variables, result.stdout).toContain(variable);
    }
    expect(lines.filter((line) => line.trimStart().startsWith('fix:'))).toHaveLength(violations.length);
    expect(result.stdout).toMatch(new RegExp(`has ${violations.length} problem\\(s\\)`));
  });

  it('passes a valid prod file and the local example, exit 0', async () => {
    const prod = await runScript('scripts/env-check', ['--env', 'prod', '--env-file', writeEnvFile(goodConfig('prod'))]);
    expect(prod.code, prod.output).toBe(0);
    expect(prod.stdout).toMatch(/the prod configuration from .* is valid/);
    const local = await runScript('scripts/env-check', ['--env', 'local', '--env-file', '.env.example']);
    expect(local.code, local.output).toBe(0);
  });

  it('checks the process environment when no file is given', async () => {
    const clean = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, undefined]));
    const result = await runScript('scripts/env-check', ['--env', 'staging'], {
      env: { ...clean, ...goodConfig('staging'), DB_SSLMODE: 'disable' },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/from the environment has 1 problem\(s\)/);
    expect(result.stdout).toMatch(/DB_SSLMODE is disable/);
  });

  it('answers wrong usage with exit 2 and a sentence', async () => {
    const noEnv = await runScript('scripts/env-check', ['--env-file', '.env.example']);
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toMatch(/--env must be one of local, test, dev, staging, prod/);
    const missing = await runScript('scripts/env-check', ['--env', 'prod', '--env-file', '/nonexistent/.env.prod']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/.env.prod/);
    const help = await runScript('scripts/env-check', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--env-file/);
  });
});

describe('.env.example', () => {
  const text = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const lines = text.split('\n');
  const assignment = /^([A-Z][A-Z0-9_]*)=/;

  it('lists exactly the variables of the config schema', () => {
    const listed = lines.map((line) => assignment.exec(line)?.[1]).filter((name): name is string => Boolean(name));
    expect([...listed].sort()).toEqual([...CONFIG_VARIABLES].sort());
    expect(Object.keys(readEnvFile(path.join(ROOT, '.env.example'))).sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('explains every variable in a comment right above it (or above its group)', () => {
    const uncommented: string[] = [];
    lines.forEach((line, index) => {
      if (!assignment.test(line)) return;
      let above = index - 1;
      while (above >= 0 && assignment.test(lines[above]!)) above -= 1;
      const comment = lines[above] ?? '';
      if (!comment.startsWith('#') || comment.startsWith('# ---')) uncommented.push(line);
    });
    expect(uncommented).toEqual([]);
  });

  it('names every secret that may come from a mounted file', () => {
    for (const name of SECRET_VARIABLES)
      expect(text).toContain(name.replace(/_(ENERGY_UNION|GREENFOOD|WATER_UNION|ESSENCE_STREAM)$/, '_*'));
  });
});

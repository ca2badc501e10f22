// Shared by the delivery tests: a valid configuration per environment, and a runner for the operator scripts
// that returns exit code and output instead of throwing.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

type Env = 'local' | 'test' | 'dev' | 'staging' | 'prod';

/** A configuration each environment's rules accept: the laptop defaults locally, a real-looking cloud setup elsewhere. */
export function goodConfig(env: Env): Record<string, string> {
  if (env === 'local' || env === 'test') {
    return {
      APP_ENV: env,
      DB_HOST: '127.0.0.1',
      DB_SSLMODE: 'disable',
      JWT_SECRET: 'local-development-jwt-secret-change-me-0123456789',
      DEV_LOGIN_ENABLED: 'true',
      REDIS_URL: 'redis://127.0.0.1:6379',
      WEB_ORIGINS: 'http://127.0.0.1:5173',
    };
  }
  const ref = { dev: 'devdevdevdevdevdevde', staging: 'stagingstagingstagin', prod: 'prodprodprodprodprod' }[env];
  return {
    APP_ENV: env,
    DB_HOST: 'aws-0-eu-central-1.pooler.supabase.com',
    DB_PORT: '5432',
    DB_NAME: 'postgres',
    DB_USER: `postgres.${ref}`,
    DB_PASSWORD: 'Zq8vN3kP0wLr7TyX2mBc',
    DB_SSLMODE: 'require',
    NATS_URL: `tls://nats.${env}.microdao.example:4222`,
    NATS_USER: `microdao-${env}`,
    NATS_PASSWORD: 'Hk29fLq0Zm3Vx8Rt',
    RATE_LIMIT_GLOBAL: '12000',
    RATE_LIMIT_PER_KEY: '600',
    TRUSTED_PROXY_HEADER: 'cf-connecting-ip',
    UPSTASH_REDIS_REST_URL: `https://eu1-${env}.upstash.io`,
    UPSTASH_REDIS_REST_TOKEN: 'AXk3Zm9yZXZlci1wcm9kLXRva2Vu',
    JWT_SECRET: 'q3Jk9sLm2Vb8Xc7Nz1Pw4Ty6Rf0Gh5Dj',
    SESSION_SECRET: 'Wm4Qe8Rt2Yu6Io0Pa3Sd7Fg1Hj5Kl9Zx',
    EMBASSY_WEBHOOK_SECRET_GREENFOOD: 'Gf7Kp2Lq9Wm4Xz8Rt1Yv6Bn3Cd5Hj0Se',
    DEV_LOGIN_ENABLED: 'false',
    SUPABASE_PROJECT_REF: ref,
    SUPABASE_URL: `https://${ref}.supabase.co`,
    JWT_ISSUER: `https://${ref}.supabase.co/auth/v1`,
    SUPABASE_ANON_KEY: 'anon-public-key-value',
    SUPABASE_SERVICE_ROLE_KEY: 'service-role-key-Vx81Lq2Zp7Nc4Rm9',
    WEB_ORIGINS: `https://city.${env}.microdao.example,https://admin.${env}.microdao.example`,
    SENTRY_DSN: 'https://abc123@o1.ingest.sentry.io/42',
    VERCEL_ORG_ID: 'team_microdao',
    VERCEL_PROJECT_ID_CITY: 'prj_city',
    VERCEL_PROJECT_ID_ADMIN: 'prj_admin',
    SMOKE_USER_EMAIL: 'smoke@microdao.example',
    SMOKE_USER_PASSWORD: 'Smoke-Pw-4q8Zr2Lx',
  };
}

const tempDirs: string[] = [];

/** A fresh temporary directory, removed by removeTempDirs() (call it in afterAll). */
export function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `mdao-${label}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes variables as a dotenv file in a fresh temporary directory. */
export function writeEnvFile(variables: Record<string, string>, name = 'app.env'): string {
  const file = path.join(tempDir('env'), name);
  writeFileSync(
    file,
    Object.entries(variables)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(''),
    { mode: 0o600 },
  );
  return file;
}

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs a repository script (path relative to the root) with a time limit; never throws on a non-zero exit. */
export function runScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number; cwd?: string } = {},
): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(
      path.join(ROOT, script),
      args,
      {
        cwd: options.cwd ?? ROOT,
        env: definedOnly({ ...process.env, ...options.env }),
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, output: `${stdout}${stderr}` });
      },
    );
  });
}

// An undefined value removes the variable from the child's environment.
function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

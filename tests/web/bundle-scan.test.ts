// Nothing secret reaches a web bundle. The scanner finds each secret shape and the values of the secret
// variables of env files, and leaves public values (a Supabase anon key) alone; the real builds of both apps
// scan clean while the build's environment holds canary secrets; and a build that would publish a secret
// fails — both when the variable's name gives it away and when only its value does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { knownSecretValues, scanDirectory } from '../../scripts/lib/scan-web-bundle.ts';

const root = path.resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'mdao-bundle-scan-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const jwt = (payload: object) =>
  [{ alg: 'HS256', typ: 'JWT' }, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') +
  '.c2lnbmF0dXJlLWJ5dGVzLW9mLWEtdG9rZW4';
const anonKey = jwt({ iss: 'supabase', ref: 'abcdefghijklmnopqrst', role: 'anon', iat: 1700000000, exp: 2000000000 });
const serviceRoleKey = jwt({ iss: 'supabase', ref: 'abcdefghijklmnopqrst', role: 'service_role', iat: 1700000000, exp: 2000000000 });
const canaries = {
  JWT_SECRET: 'canary-jwt-secret-4c1f0e6b9a2d47e8b3a5c7d9e1f20304',
  SESSION_SECRET: 'canary-session-secret-8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a',
  DB_PASSWORD: 'canary-db-password-19a8b7c6d5e4',
  SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey,
};

function bundleDir(name: string, files: Record<string, string>): string {
  const dir = path.join(scratch, name);
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

function buildWeb(app: string, outDir: string, env: Record<string, string>) {
  return spawnSync('bash', ['scripts/build_web.sh', '--app', app, '--out', path.relative(root, outDir)], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 120_000,
  });
}

describe('the bundle scanner', () => {
  it('finds every secret shape and the values of secret variables, and names the file', () => {
    const envFile = path.join(scratch, 'planted.env');
    writeFileSync(envFile, `JWT_SECRET=${canaries.JWT_SECRET}\nAPI_HOST=127.0.0.1\nDB_PASSWORD=short\n`);
    const dir = bundleDir('planted', {
      'assets/index-a1.js': [
        `const k=${JSON.stringify(serviceRoleKey)};`,
        'const pem="-----BEGIN PRIVATE KEY-----\\nMIIE";',
        'const db="postgresql://postgres:hunter2hunter2@db.example.com:5432/postgres";',
        'const cache="redis://:hunter3hunter3@cache.example.com:6379";',
        `const w="0x${'ab12'.repeat(16)}";`,
        'const s="sb_secret_0123456789abcdefghijklmnop";',
        `const j="${canaries.JWT_SECRET}";`,
      ].join('\n'),
      'index.html': '<script src="/assets/index-a1.js"></script>',
    });
    const findings = scanDirectory(dir, knownSecretValues([envFile]));
    expect(findings.map((f) => f.rule).sort()).toEqual(
      [
        'JWT that is not a Supabase anon key',
        'Supabase secret key',
        'credentials in a connection URL',
        'credentials in a connection URL',
        'hex private key (32 bytes)',
        'private key (PEM)',
        `value of JWT_SECRET (${envFile})`,
      ].sort(),
    );
    expect(findings.every((f) => f.file.endsWith(path.join('assets', 'index-a1.js')))).toBe(true);
    // the report shows where, not the secret itself
    expect(JSON.stringify(findings)).not.toContain(canaries.JWT_SECRET);
  });

  it('leaves the public Supabase anon key, short placeholders and non-secret variables alone', () => {
    const envFile = path.join(scratch, 'public.env');
    writeFileSync(envFile, 'DB_PASSWORD=\nJWT_SECRET=changeme\nAPI_HOST=127.0.0.1\nSUPABASE_ANON_KEY=ignored\n');
    const dir = bundleDir('public', {
      'assets/index-b2.js': `const anon=${JSON.stringify(anonKey)};const host="127.0.0.1";const pw="changeme";`,
    });
    expect(scanDirectory(dir, knownSecretValues([envFile]))).toEqual([]);
  });

  it('checks the secret values of the repository .env.example', () => {
    const known = knownSecretValues([path.join(root, '.env.example')]);
    expect(known.map((k) => k.source)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^JWT_SECRET /), expect.stringMatching(/^SESSION_SECRET /)]),
    );
  });
});

describe('the web builds', () => {
  it('build both apps clean with secrets in the build environment, and bake in the API base URL', async () => {
    const outDir = path.join(scratch, 'clean');
    const apiBaseUrl = 'https://abcdefghijklmnopqrst.supabase.co/functions/v1';
    const env = { ...canaries, VITE_API_BASE_URL: apiBaseUrl };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      for (const app of ['city', 'admin']) {
        await build({
          configFile: path.join(root, `web/${app}/vite.config.ts`),
          logLevel: 'silent',
          build: { outDir: path.join(outDir, app) },
        });
      }
    } finally {
      for (const name of Object.keys(env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
    for (const app of ['city', 'admin']) {
      const files = readdirSync(path.join(outDir, app, 'assets'));
      const bundle = files.map((f) => readFileSync(path.join(outDir, app, 'assets', f), 'utf8')).join('\n');
      expect(bundle).toContain(apiBaseUrl);
      const html = readFileSync(path.join(outDir, app, 'index.html'), 'utf8').replaceAll('&#39;', "'");
      expect(html).toContain(`connect-src 'self' https://abcdefghijklmnopqrst.supabase.co`);
      expect(scanDirectory(path.join(outDir, app), knownSecretValues([path.join(root, '.env.example')], env))).toEqual([]);
    }
  });

  it('fails when a secret would be published under an innocent name (a service-role key pasted as the anon key)', () => {
    const result = buildWeb('city', path.join(scratch, 'leaky'), {
      ...canaries,
      VITE_SUPABASE_URL: 'https://abcdefghijklmnopqrst.supabase.co',
      VITE_SUPABASE_ANON_KEY: serviceRoleKey,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/JWT that is not a Supabase anon key/);
    expect(result.stderr).toMatch(/value of SUPABASE_SERVICE_ROLE_KEY \(environment\)/);
  });

  it('refuses to build with a VITE_ variable named like a secret', () => {
    const result = buildWeb('admin', path.join(scratch, 'refused'), { VITE_SERVICE_ROLE_KEY: 'whatever-value' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/VITE_SERVICE_ROLE_KEY looks like a secret/);
  });
});

// vercel.json as Vercel itself reads it: `vercel build` (the pinned CLI, offline) turns it into the Build
// Output API's routes, and the answers those routes give are checked for the paths that matter: the SPA
// rewrite, a real 404 for a missing asset, security headers everywhere, a year's cache only for hashed assets.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const vercelJson = JSON.parse(readFileSync(path.join(root, 'vercel.json'), 'utf8')) as {
  buildCommand: string;
  outputDirectory: string;
};

interface Route {
  src?: string;
  dest?: string;
  headers?: Record<string, string>;
  status?: number;
  continue?: boolean;
  check?: boolean;
  handle?: string;
}

let project: string;
let routes: Route[];
const HASHED_ASSET = '/assets/index-Cq3x9Z1a.js';

/** Runs `vercel build` until its output is written (the CLI then lingers on telemetry it cannot send). */
function vercelBuild(cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, 'node_modules/.bin/vercel'), ['build', '--yes'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: cwd, VERCEL_TELEMETRY_DISABLED: '1', NO_UPDATE_NOTIFIER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`vercel build did not finish:\n${output}`))), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Build Completed|Error:/.test(output)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(output);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => (clearTimeout(timer), resolve(output)));
  });
}

/** What the deployment answers for `pathname`, by the Build Output API's routing rules (the subset in use). */
function answer(pathname: string): { status: number; file?: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const output = path.join(project, '.vercel/output/static');
  const exists = (p: string) => existsSync(path.join(output, p === '/' ? 'index.html' : p));
  let phase: 'before' | 'after' | 'error' = 'before';
  for (const route of routes) {
    if (route.handle) {
      if (route.handle === 'filesystem') {
        if (exists(pathname)) return { status: 200, file: pathname === '/' ? '/index.html' : pathname, headers };
        phase = 'after';
      } else if (route.handle === 'error') phase = 'error';
      continue;
    }
    if (!route.src || !new RegExp(route.src).test(pathname)) continue;
    if (phase === 'error') return { status: route.status ?? 404, headers };
    if (route.status && route.status >= 300 && route.status < 400)
      return { status: route.status, headers: { ...headers, ...route.headers } };
    Object.assign(headers, route.headers);
    if (route.dest && phase === 'after' && exists(route.dest)) return { status: 200, file: route.dest, headers };
  }
  return { status: 404, headers };
}

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'mdao-vercel-'));
  // the real vercel.json; only the build is replaced by a stand-in output (the real build has its own tests)
  const out = vercelJson.outputDirectory;
  const config = {
    ...vercelJson,
    installCommand: 'true',
    buildCommand: `mkdir -p ${out}/assets && echo '<!doctype html>' > ${out}/index.html && echo 'x' > ${out}${HASHED_ASSET} && echo 'ok' > ${out}/robots.txt`,
  };
  writeFileSync(path.join(project, 'vercel.json'), JSON.stringify(config));
  writeFileSync(path.join(project, 'package.json'), '{"private": true}');
  mkdirSync(path.join(project, '.vercel'));
  writeFileSync(
    path.join(project, '.vercel/project.json'),
    JSON.stringify({ projectId: 'prj_test', orgId: 'team_test', settings: { framework: null } }),
  );
  const log = await vercelBuild(project);
  expect(log).toContain('Build Completed');
  routes = (JSON.parse(readFileSync(path.join(project, '.vercel/output/config.json'), 'utf8')) as { routes: Route[] }).routes;
}, 90_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('vercel.json', () => {
  it('builds each app with scripts/build_web.sh into the output directory Vercel serves', () => {
    expect(vercelJson.buildCommand).toMatch(/^bash scripts\/build_web\.sh --app "\$WEB_APP" --out (\S+)$/);
    expect(vercelJson.buildCommand.endsWith(`--out ${vercelJson.outputDirectory}`)).toBe(true);
  });

  it('serves index.html for app routes (the SPA rewrite)', () => {
    expect(answer('/')).toMatchObject({ status: 200, file: '/index.html' });
    expect(answer('/teams/0f6d2c1e/channels/general')).toMatchObject({ status: 200, file: '/index.html' });
    expect(answer('/robots.txt')).toMatchObject({ status: 200, file: '/robots.txt' });
  });

  it('answers 404 for a missing asset instead of index.html', () => {
    expect(answer('/assets/index-gone1234.js').status).toBe(404);
  });

  it('sends the security headers on every answer', () => {
    for (const pathname of ['/', '/teams/x', HASHED_ASSET]) {
      const { headers } = answer(pathname);
      const csp = headers['Content-Security-Policy'] ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(headers).toMatchObject({
        'X-Frame-Options': 'DENY',
        'Referrer-Policy': 'strict-origin-when-cross-origin',
        'X-Content-Type-Options': 'nosniff',
      });
      expect(headers['Strict-Transport-Security']).toMatch(/max-age=\d{8}/);
    }
  });

  it("caches hashed assets for a year, and leaves HTML on Vercel's revalidate-every-time default", () => {
    expect(answer(HASHED_ASSET).headers['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(answer('/').headers['Cache-Control']).toBeUndefined();
    expect(answer('/teams/x').headers['Cache-Control']).toBeUndefined();
  });
});

// The static web target really running: each build in its own release folder, `current` switched atomically
// (a reader hammering current/index.html during the switches never misses), rollback to the previous build,
// a rolled-back build never coming back by accident, and old releases pruned.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, runScript, tempDir } from './fixtures.ts';

afterAll(removeTempDirs);

function build(root: string, version: string): string {
  const dir = path.join(root, `build-${version}`);
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html><title>city ${version}</title>\n`);
  writeFileSync(path.join(dir, 'assets', `app-${version}.js`), `console.log(${JSON.stringify(version)});\n`);
  return dir;
}

const deploy = (site: string, buildDir: string, extra: string[] = [], env = 'staging') =>
  runScript('scripts/deploy_web.sh', [
    'deploy',
    '--env',
    env,
    '--target',
    'static',
    '--build-dir',
    buildDir,
    '--releases-dir',
    site,
    ...extra,
  ]);
const rollback = (site: string, extra: string[] = []) =>
  runScript('scripts/deploy_web.sh', ['rollback', '--env', 'staging', '--target', 'static', '--releases-dir', site, ...extra]);
const served = (site: string) => readFileSync(path.join(site, 'current', 'index.html'), 'utf8');
const currentRelease = (site: string) => path.basename(readlinkSync(path.join(site, 'current')));

describe('scripts/deploy_web.sh --target static', () => {
  it('deploys each build into its own release, switches current, and rolls back to the previous build', async () => {
    const root = tempDir('web');
    const site = path.join(root, 'site');
    const first = await deploy(site, build(root, 'v1'));
    expect(first.code, first.output).toBe(0);
    expect(served(site)).toContain('city v1');
    const second = await deploy(site, build(root, 'v2'));
    expect(second.code, second.output).toBe(0);
    expect(served(site)).toContain('city v2');
    const releases = readdirSync(path.join(site, 'releases')).sort();
    expect(releases).toEqual([expect.stringMatching(/^0001-\d{8}T\d{6}Z-\w+$/), expect.stringMatching(/^0002-\d{8}T\d{6}Z-\w+$/)]);
    expect(readlinkSync(path.join(site, 'current'))).toBe(`releases/${releases[1]}`);
    expect(readFileSync(path.join(site, 'current', 'assets', 'app-v2.js'), 'utf8')).toContain('v2');

    const back = await rollback(site);
    expect(back.code, back.output).toBe(0);
    expect(back.stderr).toContain(`from ${releases[1]} to ${releases[0]}`);
    expect(served(site)).toContain('city v1');
    expect(readdirSync(path.join(site, 'releases')).sort()).toEqual([releases[0], `${releases[1]}.rolled-back`]);

    // a fixed build goes out; rolling that back returns to v1, never to the build already rolled back
    expect((await deploy(site, build(root, 'v3'))).code).toBe(0);
    expect(served(site)).toContain('city v3');
    expect((await rollback(site)).code).toBe(0);
    expect(served(site)).toContain('city v1');

    const oldest = await rollback(site);
    expect(oldest.code).toBe(1);
    expect(oldest.stderr).toMatch(/is the oldest one in .*; there is no earlier release to roll back to/);
    expect(served(site)).toContain('city v1');

    const list = await runScript('scripts/deploy_web.sh', ['list', '--target', 'static', '--releases-dir', site]);
    expect(list.stdout).toMatch(new RegExp(`^${releases[0]}  \\(current\\)$`, 'm'));
  });

  it('never leaves a moment without a current build while switching', async () => {
    const root = tempDir('web');
    const site = path.join(root, 'site');
    expect((await deploy(site, build(root, 'a'))).code).toBe(0);
    // a separate process reads current/index.html as fast as it can while releases switch
    const reader = spawn('bash', [
      '-c',
      `n=0; miss=0; while [ ! -e "${root}/stop" ]; do cat "${site}/current/index.html" >/dev/null 2>&1 || miss=$((miss+1)); n=$((n+1)); done; echo "$n $miss"`,
    ]);
    let readerOutput = '';
    reader.stdout.on('data', (chunk: Buffer) => (readerOutput += chunk.toString()));
    const finished = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    try {
      for (const version of ['b', 'c', 'd']) {
        expect((await deploy(site, build(root, version))).code).toBe(0);
        expect((await rollback(site)).code).toBe(0);
      }
    } finally {
      writeFileSync(path.join(root, 'stop'), '');
      await finished;
    }
    const [reads, misses] = readerOutput.trim().split(' ').map(Number);
    expect(reads).toBeGreaterThan(50);
    expect(misses).toBe(0);
  });

  it('keeps --keep releases, never removing the current or the previous one', async () => {
    const root = tempDir('web');
    const site = path.join(root, 'site');
    for (const version of ['1', '2', '3', '4']) expect((await deploy(site, build(root, version), ['--keep', '2'])).code).toBe(0);
    const left = readdirSync(path.join(site, 'releases')).sort();
    expect(left.map((id) => id.slice(0, 4))).toEqual(['0003', '0004']);
    expect(currentRelease(site)).toBe(left[1]);
    expect((await rollback(site)).code).toBe(0);
    expect(served(site)).toContain('city 3');
  });

  it('dry run prints the exact commands and changes nothing', async () => {
    const root = tempDir('web');
    const site = path.join(root, 'site');
    const result = await deploy(site, build(root, 'x'), ['--dry-run']);
    expect(result.code, result.output).toBe(0);
    const id = /releases\/(0001-\d{8}T\d{6}Z-\w+)\.partial/.exec(result.stdout)?.[1];
    expect(id).toBeDefined();
    expect(result.stdout.trim().split('\n')).toEqual([
      `$ mkdir -p ${site}/releases/${id}.partial`,
      `$ cp -R ${root}/build-x/. ${site}/releases/${id}.partial/`,
      `$ mv -T ${site}/releases/${id}.partial ${site}/releases/${id}`,
      `$ ln -sfn releases/${id} ${site}/current.next`,
      `$ mv -T ${site}/current.next ${site}/current`,
    ]);
    expect(() => readdirSync(site)).toThrow(/ENOENT/);
  });

  it('refuses a build without index.html, a missing build, and prod without --yes-prod', async () => {
    const root = tempDir('web');
    const site = path.join(root, 'site');
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    const noIndex = await deploy(site, empty);
    expect(noIndex.code).toBe(1);
    expect(noIndex.stderr).toMatch(/has no index\.html; is it the output of a finished build\?/);
    const missing = await deploy(site, path.join(root, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist; build first \(scripts\/build_web\.sh/);
    const prod = await deploy(site, build(root, 'p'), [], 'prod');
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/refusing to deploy the static web in prod without --yes-prod/);
    const prodOk = await deploy(site, build(root, 'p'), ['--yes-prod'], 'prod');
    expect(prodOk.code, prodOk.output).toBe(0);
    expect(served(site)).toContain('city p');
  });
});

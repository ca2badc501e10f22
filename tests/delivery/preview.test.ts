// scripts/preview.sh without an account (--dry-run): the exact commands of bringing a branch's preview up
// (Supabase branch → its settings → migrate + seed → API → both web apps built against the branch's API) and
// down (branch deleted, the deployments tagged with its name removed), names derived safely from git branch
// names, and the guards; then the preview workflow's triggers. preview-env.ts merges for real.
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { goodConfig, removeTempDirs, ROOT, runScript, tempDir, writeEnvFile } from './fixtures.ts';

const NO_TOKENS = { SUPABASE_ACCESS_TOKEN: undefined, VERCEL_TOKEN: undefined };
const staging = () => writeEnvFile(goodConfig('staging'));
const commands = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => /^\s*\$ /.test(line))
    .map((line) => line.trim().slice(2));
afterAll(removeTempDirs);

describe('scripts/preview.sh', () => {
  it('up: a Supabase branch named after the git branch, migrated and seeded, the API on it, both web apps built against it', async () => {
    const result = await runScript('scripts/preview.sh', ['up', '--branch', 'Feature/New_Thing!', '--env-file', staging(), '--dry-run'], {
      env: NO_TOKENS,
    });
    expect(result.code, result.output).toBe(0);
    const ref = goodConfig('staging').SUPABASE_PROJECT_REF;
    const name = 'preview-feature-new-thing';
    const steps = commands(result.stdout);
    expect(steps[0]).toBe(`node_modules/.bin/supabase branches create ${name} --project-ref ${ref} --git-branch Feature/New_Thing\\!`);
    expect(steps[1]).toBe(`node_modules/.bin/supabase branches get ${name} --project-ref ${ref} -o env`);
    expect(result.stdout).toMatch(/# DATABASE_URL=<branch database URL> scripts\/migrate\.sh up --env dev, then seed/);
    expect(steps[2]).toMatch(/^scripts\/deploy_api\.sh --env dev --env-file .* --project-ref .*branch.*ref.* --dry-run$/);
    for (const app of ['city', 'admin']) {
      expect(steps).toContain(
        `VITE_API_BASE_URL=https://<branch ref>.supabase.co/functions/v1/api scripts/deploy_web.sh deploy --env dev --target vercel --vercel-target preview --app ${app} --env-file ${
          steps
            .find((s) => s.includes(`--app ${app}`))!
            .split('--env-file ')[1]!
            .split(' ')[0]
        } --meta preview_branch=${name} --dry-run`,
      );
    }
    expect(steps.filter((s) => s === `node_modules/.bin/vercel deploy --prebuilt --meta preview_branch=${name}`)).toHaveLength(2);
    expect(result.stdout).toContain('| API | https://<branch ref>.supabase.co/functions/v1/api |');
  });

  it('down: deletes the branch and the deployments tagged with its name; list shows both sides', async () => {
    const down = await runScript('scripts/preview.sh', ['down', '--branch', 'feature/x', '--env-file', staging(), '--dry-run'], {
      env: NO_TOKENS,
    });
    expect(down.code, down.output).toBe(0);
    expect(commands(down.stdout)).toEqual([
      `node_modules/.bin/supabase branches delete preview-feature-x --project-ref ${goodConfig('staging').SUPABASE_PROJECT_REF} --yes`,
      'node_modules/.bin/vercel ls --meta preview_branch=preview-feature-x',
      'node_modules/.bin/vercel remove \\<each\\ deployment\\ listed\\> --yes',
      'node_modules/.bin/vercel ls --meta preview_branch=preview-feature-x',
      'node_modules/.bin/vercel remove \\<each\\ deployment\\ listed\\> --yes',
    ]);
    const list = await runScript('scripts/preview.sh', ['list', '--env-file', staging(), '--dry-run'], { env: NO_TOKENS });
    expect(commands(list.stdout)[0]).toMatch(/supabase branches list --project-ref/);
  });

  it('refuses what it must: the pipeline branches, a missing branch or env file, a real run without tokens', async () => {
    const cases: [string[], number, RegExp][] = [
      [['up', '--branch', 'main', '--env-file', staging()], 2, /main deploys through the pipeline/],
      [['up', '--env-file', staging()], 2, /--branch is required for up/],
      [['up', '--branch', '///', '--env-file', staging()], 2, /no letters or digits/],
      [['up', '--branch', 'x'], 2, /--env-file is required/],
      [['sideways', '--branch', 'x'], 2, /unknown command 'sideways'/],
      [['up', '--branch', 'x', '--env-file', staging()], 1, /SUPABASE_ACCESS_TOKEN is not set/],
    ];
    for (const [args, code, message] of cases) {
      const result = await runScript('scripts/preview.sh', args, { env: NO_TOKENS });
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.stderr).toMatch(message);
    }
    const long = await runScript('scripts/preview.sh', [
      'down',
      '--branch',
      `feature/${'a'.repeat(80)}`,
      '--env-file',
      staging(),
      '--dry-run',
    ]);
    expect(commands(long.stdout)[0]).toMatch(/branches delete preview-feature-a{32} /);
  });
});

describe('scripts/lib/preview-env.ts', () => {
  it("points staging's settings at the branch's database and auth, as dev", async () => {
    const dir = tempDir('preview-env');
    const branch = path.join(dir, 'branch.env');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      branch,
      'POSTGRES_URL_NON_POOLING="postgresql://postgres.abcd:p%40ss@db.abcd.supabase.co:5432/postgres"\nSUPABASE_URL="https://abcd.supabase.co"\nSUPABASE_ANON_KEY="anon-key"\n',
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/lib/preview-env.ts', staging(), branch], {
      cwd: ROOT,
    });
    const env = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      APP_ENV: 'dev',
      SUPABASE_PROJECT_REF: 'abcd',
      SUPABASE_URL: 'https://abcd.supabase.co',
      JWT_ISSUER: 'https://abcd.supabase.co/auth/v1',
      DB_HOST: 'db.abcd.supabase.co',
      DB_USER: 'postgres.abcd',
      DB_PASSWORD: 'p@ss',
      DB_SSLMODE: 'require',
      NATS_URL: goodConfig('staging').NATS_URL,
    });
    expect(env.JWT_SECRET).toBeUndefined();
  });
});

describe('.github/workflows/preview.yml', () => {
  const workflow = parse(readFileSync(path.join(ROOT, '.github/workflows/preview.yml'), 'utf8'));
  it('brings a pull request’s preview up on each push and down when it closes or its branch is deleted', () => {
    expect(workflow.on).toEqual({ pull_request: { types: ['opened', 'synchronize', 'reopened', 'closed'] }, delete: null });
    expect(workflow.jobs.up.if).toBe("github.event_name == 'pull_request' && github.event.action != 'closed'");
    expect(workflow.jobs.down.if).toMatch(/github.event.action == 'closed'.*github.event.ref_type == 'branch'/);
    const run = (job: string) => workflow.jobs[job].steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(run('up')).toMatch(/scripts\/preview\.sh up --branch "\$BRANCH" .*--summary-file/);
    expect(run('up')).toMatch(/gh pr comment/);
    expect(run('down')).toMatch(/scripts\/preview\.sh down --branch "\$BRANCH"/);
  });
});

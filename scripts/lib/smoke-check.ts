// The smoke check (seed §5.2 step 4) and the post-deploy checklist (seed §5.4 step 6) against any base URL:
// health, readiness, then sign in → create a channel → send a message → see it listed → archive the channel.
// Checklist items whose feature this deployment does not have yet report "not available yet" — never a pass.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readEnvFile } from '../../functions/_shared/env-file.ts';
import { loadSettings } from '../local-stack/settings.ts';
import { CHECKLIST, type ChecklistContext } from './smoke/checklist/index.ts';
import { createClient, expectStatus, StepFailure, StepNotCheckable, type SmokeClient } from './smoke/client.ts';

type Outcome = 'pass' | 'fail' | 'not available yet' | 'not checked' | 'skipped';
interface StepResult {
  name: string;
  outcome: Outcome;
  detail: string;
}

interface Options {
  env: string;
  baseUrl: string;
  checklist: boolean;
  readOnly: boolean;
  dryRun: boolean;
  strict: boolean;
  timeoutMs: number;
  /** The variables the run was given, for checklist items needing test-configuration secrets. */
  variables: Record<string, string | undefined>;
  login: { kind: 'dev'; email: string } | { kind: 'password'; email: string; password: string; supabaseUrl: string; anonKey: string };
}

const LOCAL_ENVS = new Set(['local', 'test']);
const DEFAULT_SMOKE_EMAIL = 'smoke@microdao.test';
const SMOKE_TEAM_NAME = 'smoke-checks';

/** Tables the Data API must not reach, and pg_graphql's name for each one's collection field. */
const APPLICATION_TABLES = ['messages', 'channels', 'teams', 'team_members', 'profiles', 'audit_log', 'outbox_events'] as const;
const toCollectionField = (table: string) => `${table.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}Collection`;

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const name = arg.slice(2);
    if (['checklist', 'read-only', 'dry-run', 'strict'].includes(name)) flags.set(name, true);
    else if (['env', 'env-file', 'base-url', 'timeout'].includes(name)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      flags.set(name, value);
    } else throw new UsageError(`unknown argument '${arg}'`);
  }
  const env = flags.get('env');
  if (typeof env !== 'string') throw new UsageError('--env is required: local, test, dev, staging or prod');
  const envFile = flags.get('env-file');
  // locally, the settings `npm run dev` gave the platform (environment, then .env, then .env.example's local
  // defaults): the same API port and the same test partner secrets
  const source: Record<string, string | undefined> =
    typeof envFile === 'string'
      ? readEnvFile(envFile)
      : env === 'local'
        ? loadSettings(path.resolve(import.meta.dirname, '../..')).values
        : process.env;
  const where = typeof envFile === 'string' ? envFile : env === 'local' ? 'the local settings (.env or .env.example)' : 'the environment';
  const need = (name: string, why: string) => {
    const value = source[name] || (source[`${name}_FILE`] ? readFileSync(source[`${name}_FILE`]!, 'utf8').trim() : undefined);
    if (!value) throw new UsageError(`${name} is not set in ${where}; ${why}`);
    return value;
  };

  let baseUrl = flags.get('base-url');
  if (typeof baseUrl !== 'string') {
    if (LOCAL_ENVS.has(env)) baseUrl = `http://${source.API_HOST || '127.0.0.1'}:${source.API_PORT || '54321'}/api`;
    else baseUrl = `${need('SUPABASE_URL', 'it gives the API address (or pass --base-url)').replace(/\/$/, '')}/functions/v1/api`;
  }
  const timeoutSeconds = Number(flags.get('timeout') ?? 10);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout takes a number of seconds');
  const dryRun = flags.get('dry-run') === true;
  const readOnly = flags.get('read-only') === true;
  const login: Options['login'] = LOCAL_ENVS.has(env)
    ? { kind: 'dev', email: source.SMOKE_USER_EMAIL || DEFAULT_SMOKE_EMAIL }
    : readOnly || dryRun
      ? {
          kind: 'password',
          email: source.SMOKE_USER_EMAIL ?? '<SMOKE_USER_EMAIL>',
          password: '',
          supabaseUrl: source.SUPABASE_URL ?? '<SUPABASE_URL>',
          anonKey: '',
        }
      : {
          kind: 'password',
          email: need('SMOKE_USER_EMAIL', 'the smoke check signs in as this dedicated Supabase Auth user'),
          password: need('SMOKE_USER_PASSWORD', 'the smoke check signs in with it'),
          supabaseUrl: need('SUPABASE_URL', 'sign-in goes through its Supabase Auth').replace(/\/$/, ''),
          anonKey: need('SUPABASE_ANON_KEY', 'Supabase Auth requires the anon key as apikey'),
        };
  return {
    env,
    baseUrl: baseUrl.replace(/\/$/, ''),
    checklist: flags.get('checklist') === true,
    readOnly,
    dryRun,
    strict: flags.get('strict') === true,
    timeoutMs: timeoutSeconds * 1000,
    variables: source,
    login,
  };
}

class UsageError extends Error {}

async function run(options: Options): Promise<StepResult[]> {
  const api = options.baseUrl;
  const client = createClient(options);
  const results: StepResult[] = [];
  const stamp = new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 14);
  const channelName = `smoke-${stamp}-${Math.random().toString(36).slice(2, 6)}`;

  const steps: { name: string; describe: string; run: () => Promise<string> }[] = [];
  const state: { teamId?: string; channelId?: string; messageId?: string } = {};
  steps.push({
    name: 'health',
    describe: `GET ${api}/health`,
    run: async () => {
      const reply = await client.request('GET', `${api}/health`);
      const body = expectStatus(reply, 200, 'GET /health');
      if (body.status !== 'ok') throw new StepFailure(`GET /health said ${JSON.stringify(body)}`);
      return `${reply.status} in ${reply.ms} ms (environment ${String(body.environment)})`;
    },
  });
  steps.push({
    name: 'readiness',
    describe: `GET ${api}/ready`,
    run: async () => {
      const reply = await client.request('GET', `${api}/ready`);
      const body = expectStatus(reply, 200, 'GET /ready');
      const checks = Object.keys((body.checks as Record<string, unknown>) ?? {});
      return `${reply.status} in ${reply.ms} ms (${checks.join(', ')})`;
    },
  });
  if (!options.readOnly) {
    const login = options.login;
    steps.push({
      name: 'login',
      describe:
        login.kind === 'dev'
          ? `POST ${api}/auth/dev-login {"email":"${login.email}"}`
          : `POST ${login.supabaseUrl}/auth/v1/token?grant_type=password {"email":"${login.email}","password":"***"}`,
      run: async () => {
        const reply =
          login.kind === 'dev'
            ? await client.request('POST', `${api}/auth/dev-login`, { email: login.email })
            : await client.request(
                'POST',
                `${login.supabaseUrl}/auth/v1/token?grant_type=password`,
                { email: login.email, password: login.password },
                { apikey: login.anonKey },
              );
        const body = expectStatus(reply, 200, login.kind === 'dev' ? 'POST /auth/dev-login' : 'Supabase Auth sign-in');
        if (typeof body.access_token !== 'string') throw new StepFailure('the sign-in answer has no access_token');
        client.setToken(body.access_token);
        return `${login.kind === 'dev' ? 'dev login' : 'Supabase Auth'} as ${login.email}`;
      },
    });
    if (login.kind === 'password') {
      const { supabaseUrl, anonKey } = login;
      steps.push({
        name: 'data api closed',
        describe: `GET ${supabaseUrl}/rest/v1/messages and POST ${supabaseUrl}/graphql/v1 as the smoke user: no table may answer`,
        run: async () => {
          // the gateway must be the only way in: a table reachable through PostgREST or pg_graphql could be
          // written without its outbox event (docs/runbook.md, "Data API")
          const headers = { apikey: anonKey };
          const rest = await client.request('GET', `${supabaseUrl}/rest/v1/messages?select=id&limit=1`, undefined, headers);
          if (rest.status === 200)
            throw new StepFailure('the Data API serves public.messages; turn it off for the project (docs/runbook.md)');
          const query = { query: '{ __schema { queryType { fields { name } } } }' };
          const graphql = await client.request('POST', `${supabaseUrl}/graphql/v1`, query, headers);
          const fields = JSON.stringify(graphql.body ?? '');
          const exposed = APPLICATION_TABLES.filter((table) => fields.includes(`"${toCollectionField(table)}"`));
          if (graphql.status === 200 && exposed.length) {
            throw new StepFailure(`pg_graphql exposes ${exposed.join(', ')}; turn the Data API off for the project (docs/runbook.md)`);
          }
          return `REST answered ${rest.status}, GraphQL ${graphql.status} with no application table`;
        },
      });
    }
    steps.push({
      name: 'team',
      describe: `GET ${api}/teams, then POST ${api}/teams {"name":"${SMOKE_TEAM_NAME}"} unless the smoke user has that team`,
      run: async () => {
        const list = expectStatus(await client.request('GET', `${api}/teams`), 200, 'GET /teams');
        const existing = (list.items as { id: string; name: string }[]).find((team) => team.name === SMOKE_TEAM_NAME);
        if (existing) {
          state.teamId = existing.id;
          return `using team ${SMOKE_TEAM_NAME} (${existing.id})`;
        }
        const created = expectStatus(await client.request('POST', `${api}/teams`, { name: SMOKE_TEAM_NAME }), 201, 'POST /teams');
        state.teamId = String(created.id);
        return `created team ${SMOKE_TEAM_NAME} (${state.teamId})`;
      },
    });
    steps.push({
      name: 'create channel',
      describe: `POST ${api}/channels {"team_id":"<team>","name":"${channelName}"}`,
      run: async () => {
        const body = { team_id: state.teamId, name: channelName, topic: 'smoke check; archived when it ends' };
        const created = expectStatus(await client.request('POST', `${api}/channels`, body), 201, 'POST /channels');
        state.channelId = String(created.id);
        return `#${channelName} (${state.channelId})`;
      },
    });
    steps.push({
      name: 'send message',
      describe: `POST ${api}/messages {"channel_id":"<channel>","body":"smoke check ${stamp}"}`,
      run: async () => {
        const reply = await client.request('POST', `${api}/messages`, { channel_id: state.channelId, body: `smoke check ${stamp}` });
        const created = expectStatus(reply, 201, 'POST /messages');
        state.messageId = String(created.id);
        return `message ${state.messageId} in ${reply.ms} ms`;
      },
    });
    steps.push({
      name: 'message listed',
      describe: `GET ${api}/messages?channel_id=<channel>`,
      run: async () => {
        const page = expectStatus(await client.request('GET', `${api}/messages?channel_id=${state.channelId}`), 200, 'GET /messages');
        const items = page.items as { id: string }[];
        if (!items.some((item) => item.id === state.messageId)) {
          throw new StepFailure(`GET /messages does not list message ${state.messageId} it just accepted`);
        }
        return `listed among ${items.length} message(s)`;
      },
    });
    steps.push({
      name: 'archive channel',
      describe: `POST ${api}/channels/<channel>/archive`,
      run: async () => {
        expectStatus(await client.request('POST', `${api}/channels/${state.channelId}/archive`), 200, 'POST /channels/{id}/archive');
        return 'the smoke channel is archived (read-only)';
      },
    });
  }

  if (options.dryRun) {
    for (const step of steps) process.stdout.write(`${step.describe}\n`);
    if (options.checklist) {
      process.stdout.write(`GET ${api}/openapi.json (which checklist features this deployment has)\n`);
      for (const item of CHECKLIST) process.stdout.write(`${item.describe(api)}\n`);
    }
    return [];
  }

  let failed = false;
  for (const step of steps) {
    if (failed) {
      results.push({ name: step.name, outcome: 'skipped', detail: 'an earlier step failed' });
      continue;
    }
    try {
      results.push({ name: step.name, outcome: 'pass', detail: await step.run() });
    } catch (error) {
      failed = true;
      results.push({ name: step.name, outcome: 'fail', detail: (error as Error).message });
    }
  }
  if (options.checklist && failed) {
    for (const name of ['login/chat', ...CHECKLIST.map((item) => item.name)]) {
      results.push({ name: `checklist: ${name}`, outcome: 'skipped', detail: 'an earlier step failed' });
    }
  } else if (options.checklist) {
    results.push(
      ...(await checklist(client, { api, teamId: state.teamId, stamp, env: options.env, variables: options.variables }, options.readOnly)),
    );
  }
  return results;
}

/** Checklist items beyond login/chat: each runs when this deployment's OpenAPI document has its routes, and
    reports "not available yet" — never a pass — when it does not. */
async function checklist(client: SmokeClient, context: ChecklistContext, chatUnverified: boolean): Promise<StepResult[]> {
  const results: StepResult[] = [];
  if (chatUnverified) results.push({ name: 'checklist: login/chat', outcome: 'not checked', detail: 'the chat steps did not all run' });
  else results.push({ name: 'checklist: login/chat', outcome: 'pass', detail: 'signed in, created a channel, sent and listed a message' });
  let paths: string[];
  try {
    const reply = await client.request('GET', `${context.api}/openapi.json`);
    paths = Object.keys((expectStatus(reply, 200, 'GET /openapi.json').paths as Record<string, unknown>) ?? {});
  } catch (error) {
    for (const item of CHECKLIST) results.push({ name: `checklist: ${item.name}`, outcome: 'fail', detail: (error as Error).message });
    return results;
  }
  for (const item of CHECKLIST) {
    const name = `checklist: ${item.name}`;
    const present = paths.some((path) => path.startsWith(item.routePrefix) || `/api${path}`.startsWith(item.routePrefix));
    if (!present) {
      results.push({ name, outcome: 'not available yet', detail: `${item.feature} is not built yet (no ${item.routePrefix} route)` });
    } else if (chatUnverified) {
      results.push({ name, outcome: 'not checked', detail: 'read-only: the checklist signs in and writes' });
    } else {
      try {
        results.push({ name, outcome: 'pass', detail: await item.run(client, context) });
      } catch (error) {
        results.push({ name, outcome: error instanceof StepNotCheckable ? 'not checked' : 'fail', detail: (error as Error).message });
      }
    }
  }
  return results;
}

function report(results: StepResult[], options: Options): number {
  const label: Record<Outcome, string> = {
    pass: 'PASS',
    fail: 'FAIL',
    'not available yet': 'NOT AVAILABLE YET',
    'not checked': 'NOT CHECKED',
    skipped: 'SKIPPED',
  };
  for (const result of results) process.stdout.write(`  ${label[result.outcome].padEnd(17)} ${result.name.padEnd(30)} ${result.detail}\n`);
  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
  const summary = (['pass', 'fail', 'skipped', 'not available yet', 'not checked'] as Outcome[])
    .filter((outcome) => count(outcome) > 0)
    .map((outcome) => `${count(outcome)} ${outcome === 'pass' ? 'passed' : outcome === 'fail' ? 'failed' : outcome}`)
    .join(', ');
  process.stdout.write(`smoke: ${summary}\n`);
  if (count('fail') > 0) {
    process.stderr.write(`smoke: error: the ${options.env} deployment at ${options.baseUrl} failed its smoke check (see FAIL above)\n`);
    return 1;
  }
  if (options.strict && count('pass') !== results.length) {
    process.stderr.write('smoke: error: --strict: every step must pass, and some did not run or are not available yet\n');
    return 1;
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`smoke: ${error.message} (see --help)\n`);
      return 2;
    }
    throw error;
  }
  process.stderr.write(`smoke: ${options.dryRun ? 'would check' : 'checking'} ${options.baseUrl} (${options.env})\n`);
  const results = await run(options);
  return options.dryRun ? 0 : report(results, options);
}

const args = process.argv.slice(2);
process.exit(await main(args[0] === '--' ? args.slice(1) : args));

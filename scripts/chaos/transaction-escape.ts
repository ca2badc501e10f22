// Proof that no statement of a user request escapes its transaction (issue 10 §4): real gateway write requests
// under concurrent load while another connection terminates the gateway's backends at random points of their
// transactions. A trigger on every table records who wrote each row (current_user, session_user, the `role`
// setting and `request.jwt.claims`); afterwards every row must carry the role and claims of the request that
// wrote it. A statement that escaped (ran on the session the pool reconnects, porsager/postgres#1155/#1215)
// would show the login role and no claims. tests/api/transaction-escape.test.ts runs this small; main() below
// runs it full size against the gateway under Deno:
//   node --import tsx scripts/chaos/transaction-escape.ts --seconds 60 --users 16
import postgres from 'postgres';

export type Sql = postgres.Sql;

/** One HTTP request to the gateway (in-process app.request or fetch to a running gateway). */
export type Send = (
  method: string,
  path: string,
  options: { token?: string; body?: unknown; requestId?: string },
) => Promise<{ status: number; body: unknown }>;

export interface ChaosOptions {
  /** Superuser connection to the gateway's database (installs the recorder, terminates backends, checks rows). */
  admin: Sql;
  /** The gateway's database, to find its backends in pg_stat_activity. */
  databaseName: string;
  /** application_name of the gateway's pool (createDatabase: microdao-api). */
  applicationName?: string;
  send: Send;
  /** Signs a user in (POST /api/auth/dev-login) and gives the bearer token and user id. */
  login: (email: string) => Promise<{ token: string; userId: string }>;
  users: number;
  durationMs: number;
  /** Terminate one gateway backend every this many ms on average; 0: no terminations (the idle-timeout variant). */
  killEveryMs: number;
  /**
   * Leave alone sessions that have not run a statement yet or are fetching postgres.js' array types. A kill
   * there is an unhandled rejection in the driver, which db.ts handles for the process; vitest still reports it,
   * so a gateway in the test's own process needs this. A gateway in its own process (Deno) is killed there too.
   */
  spareNewSessions?: boolean;
}

export interface ChaosReport {
  requests: number;
  /** answers by status */
  statuses: Record<string, number>;
  /** answers that are neither success nor a clean error (a 500, no error shape, a thrown fetch) */
  unclean: string[];
  /** requests with no answer within ANSWER_WITHIN_MS (postgres.js 3.4.9's pool, see functions/_shared/README.md) */
  hangs: string[];
  kills: number;
  /** what each terminated backend was doing: `idle in transaction`, `active: insert`, … */
  killsByStep: Record<string, number>;
  rowsChecked: number;
  /** rows written by a SECURITY DEFINER function inside a user's transaction (role setting and claims intact) */
  definerRows: number;
  /** rows not written as `authenticated` with the claims of the request that wrote them */
  escapes: string[];
  /** messages answered 201 whose row is not there */
  lostWrites: number;
  /** the gateway's sessions when the load ended, by state */
  backendsAfter?: Record<string, number>;
}

/** A request still unanswered after this long counts as a hang (db.ts gives up on a connection after 15 s). */
const ANSWER_WITHIN_MS = 25_000;

class HangError extends Error {}

/** Schema of the recorder: its own, so the gateway's tables and grants are untouched apart from the trigger. */
const RECORDER = 'chaos_recorder';

/**
 * The trigger function is SECURITY INVOKER on purpose: current_user inside it is whoever ran the statement.
 * `current_setting('role')` is what SET LOCAL ROLE set (a SECURITY DEFINER function changes current_user, not
 * this); on a session where nothing set it, it reads `none`.
 */
export async function installRecorder(admin: Sql): Promise<number> {
  await admin.unsafe(`
    create schema if not exists ${RECORDER};
    create table if not exists ${RECORDER}.row_writes (
      table_name text not null, operation text not null, current_user_name text not null, session_user_name text not null,
      role_setting text not null, claims text, backend_pid int not null, written_at timestamptz not null default clock_timestamp());
    grant usage on schema ${RECORDER} to public;
    grant insert on ${RECORDER}.row_writes to public;
    create or replace function ${RECORDER}.record_write() returns trigger language plpgsql security invoker as $$
    begin
      insert into ${RECORDER}.row_writes (table_name, operation, current_user_name, session_user_name, role_setting, claims, backend_pid)
      values (tg_table_schema || '.' || tg_table_name, tg_op, current_user, session_user, current_setting('role'),
              nullif(current_setting('request.jwt.claims', true), ''), pg_backend_pid());
      return null;
    end $$;`);
  // every table the API's roles can reach, and the app schema the gateway's functions write (outbox, audit);
  // partitions get the trigger from their parent
  const tables = await admin<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'app') and c.relkind in ('r', 'p') and not c.relispartition`;
  for (const { name } of tables) {
    await admin.unsafe(
      `create trigger zz_chaos_record_write after insert or update or delete on ${name} for each row execute function ${RECORDER}.record_write()`,
    );
  }
  return tables.length;
}

interface Actor {
  token: string;
  userId: string;
  teamId?: string;
  channels: string[];
  messages: string[];
}

const random = <T>(items: T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

export async function runTransactionEscape(options: ChaosOptions): Promise<ChaosReport> {
  const { admin, send } = options;
  const applicationName = options.applicationName ?? 'microdao-api';
  const tag = Math.random().toString(36).slice(2, 8);
  const actors: Actor[] = [];
  for (let i = 0; i < options.users; i += 1) {
    const { token, userId } = await options.login(`chaos-${tag}-${i}@load.test`);
    actors.push({ token, userId, channels: [], messages: [] });
  }
  // setup writes (sign-in, profiles) are not under test: only the rows written from here on are checked
  await admin.unsafe(`truncate ${RECORDER}.row_writes`);

  const report: ChaosReport = {
    requests: 0,
    statuses: {},
    unclean: [],
    hangs: [],
    kills: 0,
    killsByStep: {},
    rowsChecked: 0,
    definerRows: 0,
    escapes: [],
    lostWrites: 0,
  };
  const sentBy = new Map<string, string>(); // request id -> user id
  const createdMessages: string[] = [];
  let sequence = 0;

  const request = async (actor: Actor, method: string, path: string, body?: unknown) => {
    const requestId = `chaos-${tag}-${(sequence += 1)}`;
    sentBy.set(requestId, actor.userId);
    report.requests += 1;
    let answer: { status: number; body: unknown };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HangError(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
      });
      answer = await Promise.race([send(method, path, { token: actor.token, body, requestId }), hung]);
    } catch (error) {
      const what = `${method} ${path} (${requestId}): ${(error as Error).message}`;
      if (error instanceof HangError) report.hangs.push(what);
      else report.unclean.push(what);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
    const code = (answer.body as { error?: { code?: unknown } } | null)?.error?.code;
    const clean =
      answer.status < 500
        ? answer.status < 300 || typeof code === 'string'
        : [503, 504].includes(answer.status) && typeof code === 'string';
    if (!clean) report.unclean.push(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return answer.status < 300 ? (answer.body as { id: string }) : undefined;
  };

  const step = async (actor: Actor) => {
    if (!actor.teamId) {
      const team = await request(actor, 'POST', '/api/teams', { name: `Chaos ${tag} ${actor.userId.slice(0, 8)}` });
      actor.teamId = team?.id;
      return;
    }
    const roll = Math.random();
    const channel = random(actor.channels);
    const message = random(actor.messages);
    if (!channel || roll < 0.1) {
      const created = await request(actor, 'POST', '/api/channels', { team_id: actor.teamId, name: `load-${tag}-${sequence}` });
      if (created) actor.channels.push(created.id);
    } else if (roll < 0.65 || !message) {
      const posted = await request(actor, 'POST', '/api/messages', { channel_id: channel, body: `load ${sequence}` });
      if (posted) {
        actor.messages.push(posted.id);
        createdMessages.push(posted.id);
      }
    } else if (roll < 0.8) {
      await request(actor, 'PATCH', `/api/messages/${message}`, { body: `edited ${sequence}` });
    } else if (roll < 0.93) {
      await request(actor, 'POST', `/api/messages/${message}/followups`, { body: `reply ${sequence}` });
    } else {
      await request(actor, 'POST', '/api/teams', { name: `Chaos ${tag} extra ${sequence}` });
    }
  };

  const deadline = Date.now() + options.durationMs;
  const load = actors.map(async (actor) => {
    while (Date.now() < deadline) await step(actor);
  });

  // the killer: a backend of the gateway's pool, at a random point of whatever it is doing
  const killer = (async () => {
    if (options.killEveryMs <= 0) return;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * options.killEveryMs));
      const backends = await admin<{ pid: number; state: string | null; query: string }[]>`
        select pid, state, query from pg_stat_activity
        where datname = ${options.databaseName} and application_name = ${applicationName} and pid <> pg_backend_pid()`;
      // mid-transaction backends first: between statements and inside one are the steps that matter
      const candidates = options.spareNewSessions
        ? backends.filter((b) => b.query.trim() !== '' && !/^select b\.oid, b\.typarray/.test(b.query.trim()))
        : backends;
      const busy = candidates.filter((b) => b.state !== 'idle');
      const victim = random(busy.length > 0 && Math.random() < 0.8 ? busy : candidates);
      if (!victim) continue;
      const [done] = await admin<{ terminated: boolean }[]>`select pg_terminate_backend(${victim.pid}) as terminated`;
      if (!done?.terminated) continue;
      report.kills += 1;
      const verb = victim.query.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      const where = victim.state === 'active' ? `active: ${verb}` : `${victim.state ?? 'unknown'} (after ${verb})`;
      report.killsByStep[where] = (report.killsByStep[where] ?? 0) + 1;
    }
  })();

  await Promise.all([...load, killer]);

  const left = await admin<{ state: string | null; count: number }[]>`
    select state, count(*)::int as count from pg_stat_activity
    where datname = ${options.databaseName} and application_name = ${applicationName} group by state`;
  report.backendsAfter = Object.fromEntries(left.map((row) => [row.state ?? 'unknown', row.count]));
  // stragglers of the work of a killed transaction (refused, but give them time to try)
  await new Promise((resolve) => setTimeout(resolve, 500));

  const rows = await admin<
    {
      table_name: string;
      operation: string;
      current_user_name: string;
      session_user_name: string;
      role_setting: string;
      claims: string | null;
    }[]
  >`select table_name, operation, current_user_name, session_user_name, role_setting, claims from ${admin(RECORDER)}.row_writes`;
  report.rowsChecked = rows.length;
  for (const row of rows) {
    const claims = row.claims ? (JSON.parse(row.claims) as { sub?: string; role?: string; request_id?: string }) : null;
    const expectedUser = claims?.request_id ? sentBy.get(claims.request_id) : undefined;
    const byRequest =
      row.role_setting === 'authenticated' && claims?.role === 'authenticated' && expectedUser !== undefined && claims.sub === expectedUser;
    if (byRequest && row.current_user_name === 'authenticated') continue;
    if (byRequest && row.current_user_name !== 'authenticated') {
      report.definerRows += 1; // a SECURITY DEFINER function the request called: its owner, inside the request's transaction
      continue;
    }
    report.escapes.push(
      `${row.operation} ${row.table_name} as ${row.current_user_name} (session ${row.session_user_name}, role setting ${row.role_setting}) claims ${row.claims ?? 'none'}`,
    );
  }
  if (createdMessages.length > 0) {
    const [found] = await admin<
      { count: number }[]
    >`select count(*)::int as count from public.messages where id = any(${createdMessages}::uuid[])`;
    report.lostWrites = createdMessages.length - (found?.count ?? 0);
  }
  return report;
}

/** The figures, one line each, for the script's output and the test's log. */
export function formatReport(report: ChaosReport): string {
  return [
    `requests ${report.requests} (${Object.entries(report.statuses)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ')})`,
    `backends terminated ${report.kills} (${Object.entries(report.killsByStep)
      .map(([where, count]) => `${where}: ${count}`)
      .join(', ')})`,
    `rows checked ${report.rowsChecked} (${report.definerRows} by security-definer functions inside the request)`,
    `rows outside the request's role and claims ${report.escapes.length}`,
    `unclean answers ${report.unclean.length}`,
    `requests unanswered after ${ANSWER_WITHIN_MS / 1000} s ${report.hangs.length}`,
    `201 messages missing ${report.lostWrites}`,
    `gateway sessions after the run ${JSON.stringify(report.backendsAfter ?? {})}`,
  ].join('\n');
}

/** Full-size run: a fresh migrated and seeded database, the gateway under Deno, the chaos; the figures printed. */
async function main(): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const { parseArgs } = await import('node:util');
  const { startDenoGateway } = await import('../../tests/harness/deno-gateway.ts');
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      users: { type: 'string', default: '16' },
      'kill-every-ms': { type: 'string', default: '40' },
      'pool-max': { type: 'string', default: '8' },
      'idle-timeout-ms': { type: 'string', default: '10000' },
    },
  });
  const root = new URL('../../', import.meta.url).pathname;
  const adminUrl = new URL(process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  const database = `mdao_chaos_${Date.now().toString(36)}`;
  const databaseUrl = Object.assign(new URL(adminUrl.toString()), { pathname: `/${database}` }).toString();
  const server = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await server.unsafe(`create database "${database}"`);
  await server.end();
  const admin = postgres(databaseUrl, { max: 2, prepare: false, onnotice: () => {} });
  let gateway: Awaited<ReturnType<typeof startDenoGateway>> | undefined;
  try {
    execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'supabase/seed.sql'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await installRecorder(admin);
    gateway = await startDenoGateway({
      env: {
        APP_ENV: 'test',
        LOG_LEVEL: 'error',
        DB_HOST: adminUrl.hostname,
        DB_PORT: adminUrl.port || '5432',
        DB_NAME: database,
        DB_USER: decodeURIComponent(adminUrl.username) || 'postgres',
        DB_PASSWORD: decodeURIComponent(adminUrl.password),
        DB_POOL_MAX: values['pool-max'],
        DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: values['idle-timeout-ms'],
        // a throwaway signing secret for this run's own database; nothing else accepts it
        JWT_SECRET: `chaos-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}-secret`,
        DEV_LOGIN_ENABLED: 'true',
      },
      timeoutMs: 120_000,
    });
    const url = gateway.url;
    const send: Send = async (method, path, { token, body, requestId }) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(requestId ? { 'x-request-id': requestId } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      try {
        return { status: response.status, body: JSON.parse(text) as unknown };
      } catch {
        return { status: response.status, body: text };
      }
    };
    const report = await runTransactionEscape({
      admin,
      databaseName: database,
      send,
      login: async (email) => {
        const answer = await send('POST', '/api/auth/dev-login', { body: { email } });
        const body = answer.body as { access_token: string; user: { id: string } };
        return { token: body.access_token, userId: body.user.id };
      },
      users: Number(values.users),
      durationMs: Number(values.seconds) * 1000,
      killEveryMs: Number(values['kill-every-ms']),
    });
    console.log(formatReport(report));
    const alive = gateway.process.running && (await send('GET', '/api/health', {})).status === 200;
    console.log(`gateway process alive and healthy after the run: ${alive}`);
    for (const line of [...report.escapes, ...report.unclean].slice(0, 20)) console.log(`  ${line}`);
    process.exitCode = report.escapes.length === 0 && report.unclean.length === 0 && report.lostWrites === 0 && alive ? 0 : 1;
  } finally {
    await gateway?.stop();
    await admin.end({ timeout: 5 });
    const cleanup = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop database if exists "${database}" with (force)`);
    await cleanup.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

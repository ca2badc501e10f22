// `npm run dev`: the local platform in one command. Finds or starts Postgres, NATS and Redis (the order is in
// services/index.ts), creates, migrates and seeds the database, starts the apps that exist (apps.ts), prints
// where everything is and where it came from. Ctrl-C or SIGTERM stops the apps, then the servers this
// launcher started — never servers it found running.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { ConfigError, databaseUrl, type Config } from '../../functions/_shared/config.ts';
import { APPS, type AppContext, type AppDefinition } from './apps.ts';
import { findBinary, MissingBinaryError } from './binaries.ts';
import { commandLineOf, httpStatus, isAlive, runCaptured, stopPid, SupervisedProcess, waitUntil } from './processes.ts';
import { bold, dim, fail, say, seconds, skipped, step, warn } from './report.ts';
import { NoServiceError, planService, SERVICE_NAMES, type PlanContext, type RunningService, type ServiceName } from './services/index.ts';
import { PrivateNats } from './services/nats.ts';
import { clusterOwner, findPostgresBinaries, PrivatePostgres } from './services/postgres.ts';
import { PrivateRedis } from './services/redis.ts';
import { loadSettings, validateSettings, type Settings } from './settings.ts';
import { isPortFree, choosePort, StateFolder, type StackState } from './state.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

const USAGE = `Usage: npm run dev [-- options]      (the same as: bash scripts/dev.sh [options])

Starts the local platform: finds or starts Postgres, NATS (JetStream + monitoring) and Redis, migrates and
seeds the database, starts the apps that exist (API, outbox relay, telemetry consumer, web apps), prints
their URLs. Ctrl-C stops everything it started; a second start keeps the data.

Each backing service comes from the first of: a server named in .env or the environment (DB_HOST/DB_PORT,
NATS_URL, REDIS_URL); a server on its standard port (5432, 4222, 6379; NATS only with JetStream and its
monitoring port at NATS_MONITORING_URL); a private instance from the host's binaries with its data in the state folder;
docker compose, where a Docker engine runs.

Options:
  --dry-run          print the plan (each service's source and why, the commands) and change nothing
  --status           show what the running (or a killed) launcher uses
  --stop             stop a running launcher, or the private servers a killed one left behind
  --private LIST     use private instances for these services even if others answer: postgres,nats,redis or all
  --apps LIST        start only these apps (${APPS.map((app) => app.name).join(',')}), or none
  --state-dir DIR    private data, logs and stack.json (default .local/ of the repo; or LOCAL_STACK_DIR)
  -h, --help         this text

Environment: ENV_FILE (default .env), LOCAL_STACK_DIR, LOCAL_STACK_BIN_DIRS (where to look for server
programs besides PATH).`;

interface Options {
  mode: 'start' | 'dry-run' | 'status' | 'stop';
  forcePrivate: Set<ServiceName>;
  apps: Set<string> | undefined;
  stateDir: string;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
  const options: Options = {
    mode: 'start',
    forcePrivate: new Set(),
    apps: undefined,
    stateDir: path.resolve(process.env.LOCAL_STACK_DIR || path.join(ROOT, '.local')),
  };
  const value = (flag: string, index: number) => {
    const next = argv[index + 1];
    if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value (see --help)`);
    return next;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    else if (arg === '--dry-run') options.mode = 'dry-run';
    else if (arg === '--status') options.mode = 'status';
    else if (arg === '--stop') options.mode = 'stop';
    else if (arg === '--private') {
      const list = value(arg, i++).split(',');
      for (const name of list.includes('all') ? SERVICE_NAMES : list) {
        if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
          throw new UsageError(`--private takes ${SERVICE_NAMES.join(', ')} or all, not '${name}'`);
        }
        options.forcePrivate.add(name as ServiceName);
      }
    } else if (arg === '--apps') {
      const list = value(arg, i++);
      options.apps = new Set(list === 'none' ? [] : list.split(','));
      for (const name of options.apps) {
        if (!APPS.some((app) => app.name === name))
          throw new UsageError(`--apps: no app named '${name}' (apps: ${APPS.map((a) => a.name).join(', ')})`);
      }
    } else if (arg === '--state-dir') options.stateDir = path.resolve(value(arg, i++));
    else throw new UsageError(`unknown argument '${arg}' (see --help)`);
  }
  return options;
}

const shownPath = (file: string) => {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
};
const maskPassword = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

interface StartedApp {
  definition: AppDefinition;
  ctx: AppContext;
  process: SupervisedProcess;
}

class Launcher {
  private readonly services: RunningService[] = [];
  private readonly apps: StartedApp[] = [];
  private stack: StackState;
  private stopping = false;
  private firstSignalAt = 0;
  private startup: Promise<void> | undefined;
  private readonly started = performance.now();
  private resolveExit: (code: number) => void = () => {};
  private readonly exit = new Promise<number>((resolve) => (this.resolveExit = resolve));

  constructor(
    private readonly options: Options,
    private readonly state: StateFolder,
  ) {
    this.stack = state.read();
  }

  async run(): Promise<number> {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => this.onSignal(signal));
    this.startup = this.startUp();
    try {
      await this.startup;
    } catch (error) {
      if (!this.stopping) {
        report(error);
        this.requestStop(1);
      }
    }
    return this.exit;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (!this.stopping) {
      this.firstSignalAt = Date.now();
      process.stdout.write('\n');
      say(`${signal}: stopping`);
      this.requestStop(0);
    } else if (Date.now() - this.firstSignalAt > 2000) {
      // npm forwards the terminal's Ctrl-C as well, so only a later second signal means "hurry"
      warn('second signal: killing the apps now');
      for (const app of this.apps) app.process.kill();
    }
  }

  private requestStop(code: number): void {
    if (this.stopping) return;
    this.stopping = true;
    void (async () => {
      await this.startup?.catch(() => {});
      await this.tearDown();
      this.resolveExit(code);
    })();
  }

  private checkNotStopping(): void {
    if (this.stopping) throw new Error('stopping');
  }

  private saveState(): void {
    if (!existsSync(this.state.root)) return;
    this.stack.processes = [
      ...this.services.flatMap((service) => service.processes),
      ...this.apps.map(({ definition, process: child }) => ({
        name: definition.name,
        pid: child.pid,
        kind: 'app' as const,
        group: true,
        commandMatch: definition.entry,
      })),
    ];
    this.state.write(this.stack);
  }

  private async startUp(): Promise<void> {
    const settings = loadSettings(ROOT);
    say(settings.source);
    const initialConfig = validateSettings(settings.values);
    this.state.ensure();
    this.state.acquireLock();
    say(`state folder: ${shownPath(this.state.root)} (private servers' data, logs/, stack.json)`);
    this.stack.launcher = { pid: process.pid, startedAt: new Date().toISOString() };
    await stopLeftoverApps(this.stack);

    const takenPorts = configuredPorts(initialConfig);
    const ctx: PlanContext = {
      root: ROOT,
      state: this.state,
      stack: this.stack,
      settings,
      config: initialConfig,
      forcePrivate: this.options.forcePrivate,
      takenPorts,
    };
    for (const name of SERVICE_NAMES) {
      this.checkNotStopping();
      const { plan, running } = await step(
        name,
        async () => {
          const plan = await planService(name, ctx);
          return { plan, running: await plan.bringUp() };
        },
        ({ running }) => `${bold(running.source)}: ${running.detail}`,
      );
      if (plan.source !== 'standard port' || plan.warnings.length > 0) say(dim(`  ${name}: ${lowerFirst(plan.why)}`));
      for (const warning of plan.warnings) warn(`${name}: ${warning}`);
      this.services.push(running);
      this.stack.services[name] = { source: running.source, detail: running.detail, urls: running.endpoints };
      this.saveState();
    }
    this.checkNotStopping();

    const values = resolvedValues(settings, this.services);
    const appsToStart = await this.chooseApps(takenPorts, values);
    const config = validateSettings(values);
    const env = { ...process.env, ...values };
    await this.checkSettingsPorts(appsToStart, config);
    // apps that do not touch the schema (web dev servers, the NATS exporter) start while it is migrated
    const readiness = this.launchApps(
      appsToStart.filter(({ definition }) => definition.needsSchema === false),
      config,
      env,
    );
    await step(
      'database',
      () => ensureDatabase(config),
      (outcome) => `${config.DB_NAME} ${outcome}`,
    );
    this.checkNotStopping();
    await step(
      'migrate',
      () => this.migrateIfNeeded(config, env),
      (outcome) => outcome,
    );
    this.checkNotStopping();
    await step(
      'seed',
      () => migrate(['seed'], config, env),
      () => 'demo data loaded (supabase/seed.sql)',
    );
    this.checkNotStopping();
    readiness.push(
      ...this.launchApps(
        appsToStart.filter(({ definition }) => definition.needsSchema !== false),
        config,
        env,
      ),
    );
    await Promise.all(readiness);
    this.checkNotStopping();

    const readyInMs = performance.now() - this.started;
    this.stack.launcher = { ...this.stack.launcher, readyAt: new Date().toISOString(), readyInMs: Math.round(readyInMs) };
    this.stack.apps = this.apps.map(({ definition, ctx: appCtx }) => ({ name: definition.name, urls: definition.urls?.(appCtx) ?? [] }));
    this.saveState();
    this.printSummary(readyInMs);
    for (const app of this.apps) {
      void app.process.exited.then((code) => {
        if (!this.stopping)
          warn(
            `${app.definition.name} exited with code ${code}; the rest keeps running (log: ${shownPath(this.logFile(app.definition.name))})`,
          );
      });
    }
  }

  /**
   * `scripts/migrate.sh up` (the Supabase CLI) when a migration is pending or the compat bootstrap changed since
   * this database was last migrated from here; otherwise a second start skips the CLI's seconds.
   */
  private async migrateIfNeeded(config: Config, env: NodeJS.ProcessEnv): Promise<string> {
    const key = maskPassword(databaseUrl(config));
    const bootstrap = createHash('sha256')
      .update(readFileSync(path.join(ROOT, 'supabase/bootstrap/plain-postgres.sql')))
      .digest('hex');
    const pending = await pendingMigrations(config);
    if (pending.length === 0 && this.stack.migrated?.[key] === bootstrap) return 'schema up to date (no pending migration)';
    const output = await migrate(['up'], config, env);
    this.stack.migrated = { ...this.stack.migrated, [key]: bootstrap };
    return `${pending.length} migration(s) applied; schema at version ${/version (\d+)/.exec(output)?.[1] ?? '?'}`;
  }

  private logFile(name: string): string {
    return this.state.path('logs', `${name}.log`);
  }

  /** The apps that exist and were asked for, each with its port; web origins join WEB_ORIGINS. */
  private async chooseApps(
    takenPorts: Set<number>,
    values: Record<string, string>,
  ): Promise<{ definition: AppDefinition; port: number }[]> {
    const chosen: { definition: AppDefinition; port: number }[] = [];
    const origins = new Set((values.WEB_ORIGINS ?? '').split(',').filter(Boolean));
    for (const definition of APPS) {
      if (this.options.apps && !this.options.apps.has(definition.name)) {
        skipped(definition.name, 'not asked for (--apps)');
        continue;
      }
      if (!existsSync(path.join(ROOT, definition.entry))) {
        skipped(definition.name, `${definition.entry} does not exist yet`);
        continue;
      }
      let port = 0;
      if (definition.preferredPort) {
        port = await choosePort(this.stack.ports[`app:${definition.name}`], definition.preferredPort, takenPorts);
        takenPorts.add(port);
        this.stack.ports[`app:${definition.name}`] = port;
        if (definition.isWebOrigin) origins.add(`http://127.0.0.1:${port}`);
      }
      chosen.push({ definition, port });
    }
    values.WEB_ORIGINS = [...origins].join(',');
    return chosen;
  }

  /** Ports the settings fix for an app (API_PORT, ...) must be free before anything starts. */
  private async checkSettingsPorts(chosen: { definition: AppDefinition; port: number }[], config: Config): Promise<void> {
    for (const { definition, port } of chosen) {
      const fixed = definition.settingsPort?.({ root: ROOT, config, port });
      if (fixed && !(await isPortFree(fixed.port, fixed.host))) {
        throw new Error(
          `${fixed.variable} ${fixed.port} on ${fixed.host} (for ${definition.name}) is taken by another program: stop it or set ${fixed.variable} in .env`,
        );
      }
    }
  }

  /** Starts the apps; each promise resolves when its app is ready (and is handled, so none goes unheard). */
  private launchApps(chosen: { definition: AppDefinition; port: number }[], config: Config, env: NodeJS.ProcessEnv): Promise<unknown>[] {
    const launched = chosen.map(({ definition, port }) => {
      const ctx: AppContext = { root: ROOT, config, port };
      const { program, args } = definition.command(ctx);
      const child = new SupervisedProcess({
        name: definition.name,
        program,
        args,
        env: { ...env, ...definition.env?.(ctx) },
        cwd: ROOT,
        logFile: this.logFile(definition.name),
        echo: true,
      });
      const app = { definition, ctx, process: child };
      this.apps.push(app);
      return app;
    });
    this.saveState();
    return launched.map(({ definition, ctx, process: child }) => {
      const ready = step(
        definition.name,
        async () => {
          const url = definition.readyUrl?.(ctx);
          const giveUp = () =>
            this.stopping
              ? 'stopping'
              : child.running
                ? undefined
                : `it exited with code ${child.exitCode} (log: ${shownPath(this.logFile(definition.name))})\n${child.tail()}`;
          if (url) {
            await waitUntil(`${definition.name} to answer ${url}`, async () => (await httpStatus(url, 1000)) === 200, {
              timeoutMs: definition.readyTimeoutMs ?? 60_000,
              intervalMs: 200,
              giveUp,
            });
          } else {
            const reason = giveUp();
            if (reason) throw new Error(`${definition.name}: ${reason}`);
          }
          return url;
        },
        (url) => `${definition.description} ${url ? `ready (${url})` : `running (pid ${child.pid})`}`,
      );
      ready.catch(() => {}); // a failure is reported by whoever awaits it, or was overtaken by a stop
      return ready;
    });
  }

  private printSummary(readyInMs: number): void {
    const rows: [string, string, string][] = [];
    for (const { definition, ctx } of this.apps) for (const { label, url } of definition.urls?.(ctx) ?? []) rows.push([label, url, '']);
    for (const service of this.services)
      for (const { label, url } of service.endpoints) rows.push([label, maskPassword(url), service.source]);
    rows.push(['logs', `${shownPath(this.state.logDir)}/`, '']);
    const width = Math.max(...rows.map(([label]) => label.length)) + 2;
    const urlWidth = Math.max(...rows.map(([, url]) => url.length)) + 2;
    say(`${bold('ready')} in ${seconds(readyInMs)} — Ctrl-C stops everything`);
    for (const [label, url, source] of rows) process.stdout.write(`  ${label.padEnd(width)}${url.padEnd(urlWidth)}${dim(source)}\n`);
  }

  private async tearDown(): Promise<void> {
    const began = performance.now();
    const running = this.apps.filter(({ process: child }) => child.running);
    if (running.length > 0) {
      say(`stopping ${running.map(({ definition }) => definition.name).join(', ')}`);
      await Promise.all(running.map(({ process: child }) => child.stop()));
    }
    for (const service of [...this.services].reverse()) {
      if (!service.stop) continue;
      say(`stopping ${service.name} (${service.source})`);
      try {
        await service.stop();
      } catch (error) {
        warn(`could not stop ${service.name}: ${(error as Error).message}`);
      }
    }
    this.services.length = 0;
    this.apps.length = 0;
    // a launcher refused at the lock owns nothing here: the running one's state stays as it is
    if (this.stack.launcher?.pid !== process.pid) return;
    delete this.stack.launcher;
    this.stack.services = {};
    this.stack.apps = [];
    this.saveState();
    this.state.releaseLock();
    say(`stopped in ${seconds(performance.now() - began)}; servers that were already running before were left alone`);
  }
}

/** Ports the settings give the apps: private servers must not take them. */
const configuredPorts = (config: Config) =>
  new Set([config.API_PORT, config.METRICS_PORT, config.METRICS_PORT + 1, config.NATS_EXPORTER_PORT]);

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/** The settings every child gets: the file's and environment's values, with the servers' addresses resolved. */
function resolvedValues(settings: Settings, services: RunningService[]): Record<string, string> {
  const values = { ...settings.values };
  for (const service of services) Object.assign(values, service.variables);
  return values;
}

async function ensureDatabase(config: Config): Promise<'exists' | 'created'> {
  const admin = postgres(databaseUrl({ ...config, DB_NAME: 'postgres' }), { max: 1, prepare: false, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${config.DB_NAME}`;
    if (rows.length > 0) return 'exists';
    await admin.unsafe(`create database "${config.DB_NAME.replaceAll('"', '""')}"`);
    return 'created';
  } catch (error) {
    if ((error as { code?: string }).code === '42P04') return 'exists';
    throw new Error(`could not create the database ${config.DB_NAME}: ${(error as Error).message}`, { cause: error });
  } finally {
    await admin.end({ timeout: 2 });
  }
}

/** Migration files whose version the database's ledger (supabase_migrations.schema_migrations) lacks. */
async function pendingMigrations(config: Config): Promise<string[]> {
  const files = readdirSync(path.join(ROOT, 'supabase/migrations')).filter((name) => /^\d+_.*\.sql$/.test(name));
  const sql = postgres(databaseUrl(config), { max: 1, prepare: false, onnotice: () => {} });
  try {
    const [ledger] = await sql<{ exists: boolean }[]>`select to_regclass('supabase_migrations.schema_migrations') is not null as exists`;
    if (!ledger?.exists) return files;
    const applied = new Set(
      (await sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations`).map((r) => r.version),
    );
    return files.filter((name) => !applied.has(name.split('_')[0]!));
  } finally {
    await sql.end({ timeout: 2 });
  }
}

async function migrate(command: string[], config: Config, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runCaptured('bash', ['scripts/migrate.sh', ...command, '--db-url', databaseUrl(config)], { env, cwd: ROOT });
  if (result.code !== 0) throw new Error(`scripts/migrate.sh ${command.join(' ')} failed:\n${result.output.trim()}`);
  return result.output;
}

/** Apps of a launcher that was killed (not stopped) still hold their ports: stop them first. */
async function stopLeftoverApps(stack: StackState): Promise<void> {
  for (const recorded of stack.processes.filter((p) => p.kind === 'app')) {
    if (isAlive(recorded.pid) && (commandLineOf(recorded.pid) ?? '').includes(recorded.commandMatch)) {
      say(`stopping ${recorded.name} (pid ${recorded.pid}), left running by a launcher that did not shut down`);
      await stopPid(recorded.pid, { group: recorded.group });
    }
  }
  stack.processes = stack.processes.filter((p) => p.kind !== 'app');
}

async function dryRun(options: Options, state: StateFolder): Promise<void> {
  say('dry run: nothing is started, created or written');
  const settings = loadSettings(ROOT);
  say(settings.source);
  const config = validateSettings(settings.values);
  const stack = state.read();
  const ctx: PlanContext = {
    root: ROOT,
    state,
    stack,
    settings,
    config,
    forcePrivate: options.forcePrivate,
    takenPorts: configuredPorts(config),
  };
  const services: RunningService[] = [];
  for (const name of SERVICE_NAMES) {
    const plan = await planService(name, ctx);
    say(`→ ${bold(name.padEnd(13))} ${bold(plan.source)}: ${plan.why}`);
    for (const command of plan.commands) process.stdout.write(`                $ ${command}\n`);
    for (const warning of plan.warnings) warn(`${name}: ${warning}`);
    if (plan.source === 'env' || plan.source === 'standard port') services.push(await plan.bringUp());
  }
  const resolved = validateSettings(resolvedValues(settings, services));
  const url = maskPassword(databaseUrl(resolved));
  say(`→ ${bold('database'.padEnd(13))} create ${resolved.DB_NAME} if missing, migrate and seed it`);
  process.stdout.write(
    `                $ bash scripts/migrate.sh up --db-url ${url}\n                $ bash scripts/migrate.sh seed --db-url ${url}\n`,
  );
  for (const app of APPS) {
    if (options.apps && !options.apps.has(app.name)) skipped(app.name, 'not asked for (--apps)');
    else if (!existsSync(path.join(ROOT, app.entry))) skipped(app.name, `${app.entry} does not exist yet`);
    else {
      const { program, args } = app.command({ root: ROOT, config: resolved, port: app.preferredPort ?? 0 });
      say(`→ ${bold(app.name.padEnd(13))} ${app.description}`);
      process.stdout.write(`                $ ${[program === process.execPath ? 'node' : shownPath(program), ...args].join(' ')}\n`);
    }
  }
}

async function status(state: StateFolder): Promise<void> {
  const stack = state.read();
  const holder = state.lockHolder();
  say(holder ? `a launcher is running (pid ${holder}) on ${shownPath(state.root)}` : `no launcher is running on ${shownPath(state.root)}`);
  for (const [name, service] of Object.entries(stack.services)) {
    if (!service) continue;
    say(`${bold(name.padEnd(13))} ${service.source}: ${service.urls.map((u) => maskPassword(u.url)).join('  ')}`);
  }
  for (const app of stack.apps) say(`${bold(app.name.padEnd(13))} ${app.urls.map((u) => u.url).join('  ') || 'running'}`);
  for (const recorded of stack.processes) {
    const alive = isAlive(recorded.pid) && (commandLineOf(recorded.pid) ?? '').includes(recorded.commandMatch);
    say(`  ${recorded.kind} ${recorded.name} pid ${recorded.pid}: ${alive ? 'running' : 'gone'}`);
  }
  if (stack.launcher?.readyInMs) say(`last start was ready in ${seconds(stack.launcher.readyInMs)}`);
}

/** Stops a running launcher (it then stops everything), or what a killed one left behind. */
async function stop(state: StateFolder): Promise<void> {
  const holder = state.lockHolder();
  if (holder) {
    say(`asking the launcher (pid ${holder}) to stop`);
    process.kill(holder, 'SIGTERM');
    await waitUntil(`the launcher (pid ${holder}) to stop`, () => !isAlive(holder), { timeoutMs: 90_000, intervalMs: 200 });
    say('stopped');
    return;
  }
  const stack = state.read();
  await stopLeftoverApps(stack);
  const postgresBinaries = findPostgresBinaries();
  const owner = clusterOwner();
  if (stack.postgresRoot && 'binDir' in postgresBinaries) {
    const cluster = new PrivatePostgres(stack.postgresRoot, postgresBinaries.binDir, 0, owner);
    if (cluster.running()) {
      say('stopping the private Postgres');
      await cluster.stop();
    }
  }
  const nats = new PrivateNats(state.path('nats'), findBinary('nats-server') ?? 'nats-server', { client: 0, monitoring: 0 }, '');
  if (nats.runningPid()) {
    say('stopping the private NATS');
    await nats.stop();
  }
  const redis = new PrivateRedis(state.path('redis'), findBinary('redis-server') ?? 'redis-server', 0, '');
  if (redis.runningPid()) {
    say('stopping the private Redis');
    await redis.stop();
  }
  stack.processes = [];
  stack.services = {};
  stack.apps = [];
  if (existsSync(state.root)) state.write(stack);
  say('nothing of the local platform is running any more');
}

function report(error: unknown): void {
  if (error instanceof ConfigError) fail(`the settings are not valid:\n${error.message.replace(/^invalid configuration:\n/, '')}`);
  else if (error instanceof NoServiceError || error instanceof MissingBinaryError || error instanceof UsageError) fail(error.message);
  else fail((error as Error).message ?? String(error));
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    report(error);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const state = new StateFolder(options.stateDir);
  try {
    if (options.mode === 'dry-run') await dryRun(options, state);
    else if (options.mode === 'status') await status(state);
    else if (options.mode === 'stop') await stop(state);
    else return await new Launcher(options, state).run();
    return 0;
  } catch (error) {
    report(error);
    return error instanceof ConfigError ? 2 : 1;
  }
}

// A closed terminal or pipe (e.g. `npm run dev | tee`, whose tee also got the Ctrl-C) must not stop the
// launcher halfway through stopping what it started.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
process.exit(await main());

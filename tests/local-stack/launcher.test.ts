// `npm run dev` end to end: it finds or starts the backing services, migrates and seeds a fresh database,
// starts the apps that exist, answers on every URL it prints, stops everything it started on a signal
// (and nothing it found), and a second start keeps the data. Each run has its own state folder, env file,
// database name and ports, so it never touches a developer's platform.
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import Redis from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { APPS } from '../../scripts/local-stack/apps.ts';
import { isAlive } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { probeNats, probePostgres, probeRedis } from '../../scripts/local-stack/services/probes.ts';
import { uniqueName } from '../harness/services.ts';
import { cleanEnvironment, LauncherRun, makeStateRoot, readStack, rememberWebPorts, ROOT, writeEnvFile } from './launcher-run.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** A launcher on its own state folder and ports; afterAll stops whatever a failed test left running. */
async function prepare(label: string) {
  const dir = makeStateRoot(`mdao-launcher-${label}-`);
  const stateDir = path.join(dir, 'state');
  const ports = {
    API_PORT: await ephemeralPort(),
    METRICS_PORT: await ephemeralPort(),
    NATS_EXPORTER_PORT: await ephemeralPort(),
  };
  const databaseName = uniqueName('mdao_t_dev');
  const envFile = writeEnvFile(dir, { DB_NAME: databaseName, ...ports });
  const env = cleanEnvironment({ ENV_FILE: envFile });
  const start = (...args: string[]) => new LauncherRun(['--state-dir', stateDir, ...args], env);
  const prepareWebPorts = async () => rememberWebPorts(stateDir, { city: await ephemeralPort(), admin: await ephemeralPort() });
  cleanups.push(async () => {
    await new LauncherRun(['--stop', '--state-dir', stateDir], env, { direct: true }).exited;
    rmSync(dir, { recursive: true, force: true });
  });
  return { stateDir, databaseName, env, start, ports, prepareWebPorts };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

async function teamNames(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    return (await sql<{ name: string }[]>`select name from public.teams order by name`).map((row) => row.name);
  } finally {
    await sql.end();
  }
}

const urlOf = (stack: ReturnType<typeof readStack>, service: string, label: string) => {
  const url = stack.services[service]?.urls.find((entry) => entry.label === label)?.url;
  if (!url) throw new Error(`stack.json has no ${label} for ${service}`);
  return url;
};

describe('npm run dev', () => {
  it('uses the standard Postgres and Redis, a private NATS with monitoring and no WebSocket, answers on every URL, and SIGINT stops only what it started', async () => {
    const { start, stateDir, databaseName, ports, prepareWebPorts } = await prepare('standard');
    await prepareWebPorts();
    const launcher = start();
    // a first Deno run downloads the API's npm packages
    await launcher.waitUntilReady(200_000);
    const stack = readStack(stateDir);

    expect(stack.services.postgres?.source).toBe('standard port');
    expect(stack.services.redis?.source).toBe('standard port');
    expect(stack.services.nats?.source).toBe('private');
    expect(launcher.output).toMatch(/nats: the NATS on nats:\/\/127\.0\.0\.1:4222 has no monitoring port at http:\/\/127\.0\.0\.1:8222/);
    expect(launcher.output).toMatch(new RegExp(`database +${databaseName} created`));

    // the demo data is in the fresh database of the standard server
    const postgresUrl = urlOf(stack, 'postgres', 'Postgres');
    expect(postgresUrl).toBe(`postgresql://postgres@127.0.0.1:5432/${databaseName}`);
    expect(await teamNames(postgresUrl)).toEqual(['Demo Team']);

    // every URL it printed answers
    const nats = await probeNats(urlOf(stack, 'nats', 'NATS'));
    expect(nats).toMatchObject({ ok: true, jetstream: true });
    expect((await fetch(`${urlOf(stack, 'nats', 'NATS monitoring')}/jsz`)).status).toBe(200);
    // no unauthenticated WebSocket listener: nothing uses one, so none is opened or printed
    expect(stack.services.nats?.urls.map((entry) => entry.label)).toEqual(['NATS', 'NATS monitoring']);
    const varz = (await (await fetch(`${urlOf(stack, 'nats', 'NATS monitoring')}/varz`)).json()) as { websocket?: { port?: number } };
    expect(varz.websocket?.port ?? 0).toBe(0);
    expect((await probeRedis(urlOf(stack, 'redis', 'Redis'))).ok).toBe(true);
    const started = APPS.filter((app) => existsSync(path.join(ROOT, app.entry))).map((app) => app.name);
    expect(stack.apps.map((app) => app.name).sort()).toEqual(started.sort());
    for (const app of stack.apps) {
      for (const { url } of app.urls) {
        const probe = app.name === 'api' ? `${url}/health` : url;
        expect((await fetch(probe)).status, `${app.name} at ${probe}`).toBe(200);
      }
    }
    if (started.includes('api'))
      expect(stack.apps.find((app) => app.name === 'api')?.urls[0]?.url).toBe(`http://127.0.0.1:${ports.API_PORT}/api`);

    const recorded = stack.processes;
    expect(
      recorded
        .filter((p) => p.kind === 'app')
        .map((p) => p.name)
        .sort(),
    ).toEqual(started.sort());
    for (const process of recorded) expect(isAlive(process.pid), `${process.name} runs`).toBe(true);

    expect(await launcher.stop('SIGINT')).toBe(0);
    for (const process of recorded) expect(isAlive(process.pid), `${process.name} (pid ${process.pid}) is gone`).toBe(false);
    expect(await portAnswers(stack.ports.nats!)).toBe(false);
    // the servers it found are still there
    expect((await probePostgres('postgresql://postgres@127.0.0.1:5432/postgres')).ok).toBe(true);
    expect((await probeNats('nats://127.0.0.1:4222')).ok).toBe(true);
    expect((await probeRedis('redis://127.0.0.1:6379')).ok).toBe(true);
    expect(launcher.output).toMatch(/^dev: stopped in /m);
  }, 260_000);

  it('with --private all runs its own Postgres, NATS and Redis, keeps their data across a restart, and --stop cleans up after a killed launcher', async () => {
    const { start, stateDir, databaseName, env } = await prepare('private');
    const first = start('--private', 'all', '--apps', 'none');
    await first.waitUntilReady();
    let stack = readStack(stateDir);
    for (const name of ['postgres', 'nats', 'redis']) expect(stack.services[name]?.source, name).toBe('private');
    expect(first.output).toMatch(/postgres +private: created and started on 127\.0\.0\.1:\d+/);
    expect(first.output).toMatch(/migrate +\d+ migration\(s\) applied; schema at version \d+/);
    const postgresUrl = urlOf(stack, 'postgres', 'Postgres');
    expect(postgresUrl).not.toContain(':5432/');
    expect(await teamNames(postgresUrl)).toEqual(['Demo Team']);

    // data the seed does not make: it must survive the restart
    const marker = `kept ${databaseName}`;
    const sql = postgres(postgresUrl, { max: 1, prepare: false, onnotice: () => {} });
    await sql`insert into public.teams (name, created_by) values (${marker}, '00000000-0000-4000-8000-00000000a11c')`;
    await sql.end();
    const redis = new Redis(urlOf(stack, 'redis', 'Redis'), { lazyConnect: true });
    await redis.connect();
    await redis.set('launcher-test-marker', marker);
    redis.disconnect();
    const nc = await connect({ servers: urlOf(stack, 'nats', 'NATS') });
    await (await jetstreamManager(nc)).streams.add({ name: 'LAUNCHER_TEST_KEPT', subjects: ['launcher.test.kept'] });
    await nc.close();

    const servers = stack.processes.filter((p) => p.kind === 'server');
    expect(servers.map((p) => p.name).sort()).toEqual(['nats', 'postgres', 'redis']);
    expect(await first.stop('SIGTERM')).toBe(0);
    for (const server of servers) expect(isAlive(server.pid), `${server.name} (pid ${server.pid}) is gone`).toBe(false);

    const second = start('--private', 'all', '--apps', 'none');
    await second.waitUntilReady();
    stack = readStack(stateDir);
    expect(second.output).toMatch(/postgres +private: started on/);
    expect(second.output).toMatch(/migrate +schema up to date \(no pending migration\)/);
    expect(urlOf(stack, 'postgres', 'Postgres')).toBe(postgresUrl);
    expect(await teamNames(postgresUrl)).toEqual(['Demo Team', marker]);
    const redisAgain = new Redis(urlOf(stack, 'redis', 'Redis'), { lazyConnect: true });
    await redisAgain.connect();
    expect(await redisAgain.get('launcher-test-marker')).toBe(marker);
    redisAgain.disconnect();
    const ncAgain = await connect({ servers: urlOf(stack, 'nats', 'NATS') });
    expect((await (await jetstreamManager(ncAgain)).streams.info('LAUNCHER_TEST_KEPT')).config.subjects).toEqual(['launcher.test.kept']);
    await ncAgain.close();

    // a launcher killed outright leaves its servers running; --stop finds and stops them
    const secondServers = stack.processes.filter((p) => p.kind === 'server');
    second.child.kill('SIGKILL');
    await second.exited;
    for (const server of secondServers) expect(isAlive(server.pid), `${server.name} outlives a killed launcher`).toBe(true);
    const stop = new LauncherRun(['--stop', '--state-dir', stateDir], env);
    expect(await stop.exited).toBe(0);
    expect(stop.output).toMatch(/stopping the private Postgres/);
    for (const server of secondServers) expect(isAlive(server.pid), `${server.name} (pid ${server.pid}) is gone`).toBe(false);
  }, 240_000);

  it('--dry-run prints where each service would come from and the commands, and creates nothing', async () => {
    const { stateDir, env } = await prepare('dry-run');
    const launcher = new LauncherRun(['--state-dir', stateDir, '--dry-run', '--private', 'redis'], env, { direct: true });
    expect(await launcher.exited).toBe(0);
    expect(launcher.output).toMatch(/^dev: → postgres +standard port: PostgreSQL [\d.]+.* answers on 127\.0\.0\.1:5432$/m);
    expect(launcher.output).toMatch(/^dev: → nats +private: the NATS on nats:\/\/127\.0\.0\.1:4222 has no monitoring port at /m);
    expect(launcher.output).toMatch(/^ +\$ \S*nats-server -c \S+\/nats\/nats\.conf$/m);
    expect(launcher.output).toMatch(/^dev: → redis +private: asked for a private instance \(--private\)/m);
    expect(launcher.output).toMatch(/^ +\$ bash scripts\/migrate\.sh up --db-url postgresql:\/\/postgres@127\.0\.0\.1:5432\/mdao_t_dev_/m);
    expect(existsSync(stateDir)).toBe(false);
  }, 60_000);

  it('refuses a server named in the env file that does not answer, naming the variable to fix', async () => {
    const { stateDir, env } = await prepare('named');
    const envFile = writeEnvFile(path.dirname(stateDir), { DB_HOST: '127.0.0.1', DB_PORT: await ephemeralPort() });
    const launcher = new LauncherRun(['--state-dir', stateDir, '--apps', 'none'], { ...env, ENV_FILE: envFile }, { direct: true });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output).toMatch(
      /dev: error: DB_HOST\/DB_PORT \(from \S+test\.env\) names the Postgres at 127\.0\.0\.1:\d+, which does not answer/,
    );
    expect(launcher.output).toContain('remove DB_HOST/DB_PORT to let the launcher find or start one');
  }, 60_000);

  it('names the package to install when a server program is missing, and leaves nothing running', async () => {
    const { stateDir, env } = await prepare('missing');
    const emptyDir = makeStateRoot('mdao-empty-path-');
    cleanups.push(async () => rmSync(emptyDir, { recursive: true, force: true }));
    // no nats-server on PATH nor in the usual sbin folders
    const launcher = new LauncherRun(
      ['--state-dir', stateDir, '--private', 'nats', '--apps', 'none'],
      {
        ...env,
        PATH: emptyDir,
        LOCAL_STACK_BIN_DIRS: '',
      },
      { direct: true },
    );
    expect(await launcher.exited).toBe(1);
    expect(launcher.output).toContain(
      'nats-server not found: install it (Debian: apt-get install nats-server; Homebrew: brew install nats-server)',
    );
    expect(readStack(stateDir).processes).toEqual([]);
    expect(existsSync(path.join(stateDir, 'launcher.lock'))).toBe(false);
  }, 60_000);
});

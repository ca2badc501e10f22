// Finds or starts each backing service, taking the first that fits, in this order:
//   1. a server named explicitly (DB_HOST/DB_PORT, NATS_URL, REDIS_URL in .env or the environment);
//   2. a server on its standard port (5432, 4222, 6379) that lets us in;
//   3. a private instance from the host's binaries, with its data under the state folder (.local/);
//   4. docker compose, where a Docker engine runs.
// NATS on the standard port counts only with JetStream and its monitoring port at NATS_MONITORING_URL: the
// stock server has no monitoring port, so a private nats-server (JetStream + monitoring) is preferred.
// Planning only probes; nothing starts until bringUp(), so --dry-run shows the plan without side effects.
import path from 'node:path';
import { databaseUrl, type Config } from '../../../functions/_shared/config.ts';
import { findBinary, installHint } from '../binaries.ts';
import { stopPid } from '../processes.ts';
import { explicitly, type Settings } from '../settings.ts';
import { choosePort, type PortName, type RecordedProcess, type StackState, type StateFolder } from '../state.ts';
import { ComposeService, dockerEngineRuns } from './docker.ts';
import { NATS_PRIVATE_PORTS, NATS_STANDARD_PORT, PrivateNats } from './nats.ts';
import {
  choosePostgresRoot,
  clusterOwner,
  findPostgresBinaries,
  POSTGRES_PRIVATE_PORT,
  POSTGRES_STANDARD_PORT,
  PrivatePostgres,
} from './postgres.ts';
import { natsMonitoringMatches, probeNats, probePostgres, probeRedis } from './probes.ts';
import { PrivateRedis, REDIS_PRIVATE_PORT, REDIS_STANDARD_PORT } from './redis.ts';

export const SERVICE_NAMES = ['postgres', 'nats', 'redis'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type ServiceSource = 'env' | 'standard port' | 'private' | 'docker';

export interface Endpoint {
  label: string;
  url: string;
}

export interface RunningService {
  name: ServiceName;
  source: ServiceSource;
  /** What happened: "answers (PostgreSQL 15.20)", "started", "adopted from an earlier start". */
  detail: string;
  /** Settings the apps get so they reach this server (DB_HOST/DB_PORT, NATS_URL/NATS_MONITORING_URL, REDIS_URL). */
  variables: Record<string, string>;
  endpoints: Endpoint[];
  dataDir?: string;
  processes: RecordedProcess[];
  /** Present only for what this launcher started: servers it found are never stopped. */
  stop?: () => Promise<void>;
}

export interface ServicePlan {
  name: ServiceName;
  source: ServiceSource;
  /** Why this source was taken, in a sentence. */
  why: string;
  commands: string[];
  warnings: string[];
  bringUp: () => Promise<RunningService>;
}

export interface PlanContext {
  root: string;
  state: StateFolder;
  /** Ports and locations chosen here are written into it (and saved by the caller unless dry-running). */
  stack: StackState;
  settings: Settings;
  config: Config;
  forcePrivate: Set<ServiceName>;
  /** Ports already promised to someone in this start. */
  takenPorts: Set<number>;
}

export class NoServiceError extends Error {}

const LOCAL = '127.0.0.1';

function shown(ctx: PlanContext, dir: string): string {
  const relative = path.relative(ctx.root, dir);
  return relative.startsWith('..') || path.isAbsolute(relative) ? dir : relative;
}

async function pickPort(ctx: PlanContext, name: PortName, preferred: number): Promise<number> {
  const port = await choosePort(ctx.stack.ports[name], preferred, ctx.takenPorts);
  ctx.takenPorts.add(port);
  ctx.stack.ports[name] = port;
  return port;
}

/** A server that is already there: nothing to start, nothing to stop. */
function found(name: ServiceName, source: ServiceSource, why: string, service: Omit<RunningService, 'name' | 'source' | 'processes'>) {
  const plan: ServicePlan = {
    name,
    source,
    why,
    commands: [],
    warnings: [],
    bringUp: async () => ({ name, source, processes: [], ...service }),
  };
  return plan;
}

// --- Postgres ----------------------------------------------------------------------------------------------

/** The maintenance database of a server, with the configured user, password and TLS mode. */
const maintenanceUrl = (config: Config, host: string, port: number) =>
  databaseUrl({ ...config, DB_HOST: host, DB_PORT: port, DB_NAME: 'postgres' });

function postgresEndpoint(config: Config, host: string, port: number, user: string): Endpoint[] {
  return [{ label: 'Postgres', url: `postgresql://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(config.DB_NAME)}` }];
}

async function planPostgres(ctx: PlanContext): Promise<ServicePlan> {
  const { config } = ctx;
  const forced = ctx.forcePrivate.has('postgres');
  const named = explicitly(ctx.settings, 'DB_HOST', 'DB_PORT');
  if (named && !forced) {
    const where = `${config.DB_HOST}:${config.DB_PORT}`;
    const probe = await probePostgres(maintenanceUrl(config, config.DB_HOST, config.DB_PORT));
    if (!probe.ok) {
      throw new NoServiceError(
        `${named} names the Postgres at ${where}, which ${probe.answered ? `refused us: ${probe.detail}` : 'does not answer'}. Start that server or fix the settings, or remove DB_HOST/DB_PORT to let the launcher find or start one`,
      );
    }
    return found('postgres', 'env', `${named} names ${where}`, {
      detail: `${where} answers (${probe.detail})`,
      variables: {},
      endpoints: postgresEndpoint(config, config.DB_HOST, config.DB_PORT, config.DB_USER),
    });
  }

  let whyNot = 'asked for a private instance (--private)';
  if (!forced) {
    const probe = await probePostgres(maintenanceUrl(config, LOCAL, POSTGRES_STANDARD_PORT));
    if (probe.ok) {
      return found('postgres', 'standard port', `${probe.detail} answers on ${LOCAL}:${POSTGRES_STANDARD_PORT}`, {
        detail: `${LOCAL}:${POSTGRES_STANDARD_PORT} answers (${probe.detail})`,
        variables: { DB_HOST: LOCAL, DB_PORT: String(POSTGRES_STANDARD_PORT) },
        endpoints: postgresEndpoint(config, LOCAL, POSTGRES_STANDARD_PORT, config.DB_USER),
      });
    }
    whyNot = probe.answered
      ? `the server on ${LOCAL}:${POSTGRES_STANDARD_PORT} refused user ${config.DB_USER} (${probe.detail})`
      : `nothing answers on ${LOCAL}:${POSTGRES_STANDARD_PORT}`;
  }

  const binaries = findPostgresBinaries();
  const owner = clusterOwner();
  if ('binDir' in binaries && !owner.problem) {
    const root = await choosePostgresRoot(ctx.state.root, ctx.stack.postgresRoot, owner);
    ctx.stack.postgresRoot = root;
    const running = new PrivatePostgres(root, binaries.binDir, 0, owner).running();
    const port = running ? running.port : await pickPort(ctx, 'postgres', POSTGRES_PRIVATE_PORT);
    if (running) {
      ctx.stack.ports.postgres = port;
      ctx.takenPorts.add(port);
    }
    const instance = new PrivatePostgres(root, binaries.binDir, port, owner);
    const where = shown(ctx, instance.dataDir);
    const outsideNote = root.startsWith(ctx.state.root)
      ? ''
      : ` (the postgres user cannot reach ${ctx.state.root}, so the cluster lives in its home)`;
    const variables = { DB_HOST: LOCAL, DB_PORT: String(port), DB_USER: 'postgres', DB_PASSWORD: '', DB_SSLMODE: 'disable' };
    return {
      name: 'postgres',
      source: 'private',
      why: `${whyNot}; ${running ? 'using the private cluster still running from an earlier start' : 'a private cluster'} in ${where}${outsideNote}`,
      commands: running ? [`(already running: pid ${running.pid}, port ${running.port})`] : instance.commands(),
      warnings: [],
      bringUp: async () => {
        const fresh = !instance.initialized;
        if (!running) await instance.start();
        const pid = instance.running()?.pid;
        return {
          name: 'postgres',
          source: 'private',
          detail: `${running ? 'still running from an earlier start' : fresh ? 'created and started' : 'started'} on ${LOCAL}:${port} (data in ${where})`,
          variables,
          endpoints: postgresEndpoint(config, LOCAL, port, 'postgres'),
          dataDir: instance.dataDir,
          processes: pid ? [{ name: 'postgres', pid, kind: 'server', group: false, commandMatch: 'postgres' }] : [],
          stop: () => instance.stop(),
        };
      },
    };
  }
  const missing = 'missing' in binaries ? binaries.missing : (owner.problem ?? '');
  if (!forced && (await dockerEngineRuns())) {
    const port = await pickPort(ctx, 'postgres', POSTGRES_STANDARD_PORT);
    const compose = new ComposeService(ctx.root, 'postgres', { POSTGRES_HOST_PORT: port });
    return dockerPlan('postgres', `${whyNot}; ${missing}; a Docker engine runs`, compose, {
      variables: { DB_HOST: LOCAL, DB_PORT: String(port), DB_USER: 'postgres', DB_PASSWORD: '', DB_SSLMODE: 'disable' },
      endpoints: postgresEndpoint(config, LOCAL, port, 'postgres'),
    });
  }
  throw new NoServiceError(`no PostgreSQL to use: ${whyNot}; ${missing}${forced ? '' : '; and no Docker engine runs (docker info fails)'}`);
}

// --- NATS --------------------------------------------------------------------------------------------------

function natsEndpoints(client: string, monitoring: string | undefined): Endpoint[] {
  const endpoints = [{ label: 'NATS', url: client }];
  if (monitoring) endpoints.push({ label: 'NATS monitoring', url: monitoring });
  return endpoints;
}

async function planNats(ctx: PlanContext): Promise<ServicePlan> {
  const { config } = ctx;
  const forced = ctx.forcePrivate.has('nats');
  const named = explicitly(ctx.settings, 'NATS_URL');
  if (named && !forced) {
    const probe = await probeNats(config.NATS_URL);
    if (!probe.ok) {
      throw new NoServiceError(
        `${named} names ${config.NATS_URL}, which ${probe.answered ? `is not usable: ${probe.detail}` : 'does not answer'}. Start that server or fix NATS_URL, or remove it to let the launcher find or start one`,
      );
    }
    const plan = found('nats', 'env', `${named} names ${config.NATS_URL}`, {
      detail: `${config.NATS_URL} answers (${probe.detail}${probe.jetstream ? ', JetStream' : ''})`,
      variables: {},
      endpoints: natsEndpoints(config.NATS_URL, undefined),
    });
    if (!probe.jetstream) plan.warnings.push('JetStream is off on that NATS server: the relay and the consumers need it (nats-server -js)');
    return plan;
  }

  // The stock server counts only with JetStream (relay, consumers) and its own monitoring port at
  // NATS_MONITORING_URL (the nats-exporter's source); otherwise a private one gives both.
  const standardUrl = `nats://${LOCAL}:${NATS_STANDARD_PORT}`;
  const standard = forced ? undefined : await probeNats(standardUrl);
  const monitored = standard?.ok && standard.jetstream && (await natsMonitoringMatches(config.NATS_MONITORING_URL, standard.serverId));
  if (standard?.ok && monitored) {
    return found(
      'nats',
      'standard port',
      `${standard.detail} with JetStream answers on ${standardUrl}, monitored at ${config.NATS_MONITORING_URL}`,
      {
        detail: `${standardUrl} answers (${standard.detail}, JetStream)`,
        variables: { NATS_URL: standardUrl },
        endpoints: natsEndpoints(standardUrl, config.NATS_MONITORING_URL),
      },
    );
  }
  const whyNot = forced
    ? 'asked for a private instance (--private)'
    : !standard?.ok
      ? `nothing usable answers on ${standardUrl}`
      : !standard.jetstream
        ? `the NATS on ${standardUrl} has JetStream off`
        : `the NATS on ${standardUrl} has no monitoring port at ${config.NATS_MONITORING_URL} (NATS_MONITORING_URL), which the NATS metrics read`;

  const binary = findBinary('nats-server');
  if (binary) {
    const root = ctx.state.path('nats');
    const remembered = ctx.stack.ports;
    const probeInstance = new PrivateNats(root, binary, { client: 0, monitoring: 0 }, '');
    const leftover = probeInstance.runningPid();
    const adoptable = leftover && remembered.nats && remembered.natsMonitoring;
    const ports = adoptable
      ? { client: remembered.nats!, monitoring: remembered.natsMonitoring! }
      : {
          client: await pickPort(ctx, 'nats', NATS_PRIVATE_PORTS.nats),
          monitoring: await pickPort(ctx, 'natsMonitoring', NATS_PRIVATE_PORTS.natsMonitoring),
        };
    if (adoptable) for (const port of Object.values(ports)) ctx.takenPorts.add(port);
    const instance = new PrivateNats(root, binary, ports, ctx.state.path('logs', 'nats.log'));
    const client = `nats://${LOCAL}:${ports.client}`;
    const monitoring = `http://${LOCAL}:${ports.monitoring}`;
    return {
      name: 'nats',
      source: 'private',
      why: `${whyNot}; a private nats-server with JetStream and monitoring, data in ${shown(ctx, root)}`,
      commands: adoptable ? [`(already running: pid ${leftover})`] : instance.commands(),
      warnings: [],
      bringUp: async () => {
        let pid = adoptable && (await instance.healthy()) ? leftover : undefined;
        const adopted = Boolean(pid);
        if (!pid) {
          if (leftover) await stopPid(leftover);
          pid = await instance.start();
        }
        return {
          name: 'nats',
          source: 'private',
          detail: `${adopted ? 'still running from an earlier start' : 'started'} on ${client} (monitoring ${ports.monitoring})`,
          variables: { NATS_URL: client, NATS_MONITORING_URL: monitoring, NATS_USER: '', NATS_PASSWORD: '' },
          endpoints: natsEndpoints(client, monitoring),
          dataDir: instance.storeDir,
          processes: [{ name: 'nats', pid, kind: 'server', group: false, commandMatch: 'nats-server' }],
          stop: () => instance.stop(),
        };
      },
    };
  }
  if (!forced && (await dockerEngineRuns())) {
    const ports = {
      NATS_HOST_PORT: await pickPort(ctx, 'nats', standard?.answered ? NATS_PRIVATE_PORTS.nats : NATS_STANDARD_PORT),
      NATS_MONITOR_HOST_PORT: await pickPort(ctx, 'natsMonitoring', NATS_PRIVATE_PORTS.natsMonitoring),
    };
    const client = `nats://${LOCAL}:${ports.NATS_HOST_PORT}`;
    const monitoring = `http://${LOCAL}:${ports.NATS_MONITOR_HOST_PORT}`;
    return dockerPlan(
      'nats',
      `${whyNot}; ${installHint('nats-server')}; a Docker engine runs`,
      new ComposeService(ctx.root, 'nats', ports),
      {
        variables: { NATS_URL: client, NATS_MONITORING_URL: monitoring, NATS_USER: '', NATS_PASSWORD: '' },
        endpoints: natsEndpoints(client, monitoring),
      },
    );
  }
  if (standard?.ok && !forced) {
    // better a NATS without monitoring than none: the API, relay and consumers work; the NATS metrics stay empty
    const plan = found('nats', 'standard port', `${whyNot}, and no private one can start`, {
      detail: `${standardUrl} answers (${standard.detail}${standard.jetstream ? ', JetStream' : ''}; no monitoring port)`,
      variables: { NATS_URL: standardUrl },
      endpoints: natsEndpoints(standardUrl, undefined),
    });
    plan.warnings.push(`${installHint('nats-server')} to get a private NATS with a monitoring port`);
    return plan;
  }
  throw new NoServiceError(
    `no NATS to use: ${whyNot}; ${installHint('nats-server')}${forced ? '' : '; and no Docker engine runs (docker info fails)'}`,
  );
}

// --- Redis -------------------------------------------------------------------------------------------------

async function planRedis(ctx: PlanContext): Promise<ServicePlan> {
  const { config } = ctx;
  const forced = ctx.forcePrivate.has('redis');
  const named = explicitly(ctx.settings, 'REDIS_URL');
  if (named && !forced && config.REDIS_URL) {
    const probe = await probeRedis(config.REDIS_URL);
    const shownUrl = config.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@');
    if (!probe.ok) {
      throw new NoServiceError(
        `${named} names ${shownUrl}, which ${probe.answered ? `is not usable: ${probe.detail}` : 'does not answer'}. Start that server or fix REDIS_URL, or remove it to let the launcher find or start one`,
      );
    }
    return found('redis', 'env', `${named} names ${shownUrl}`, {
      detail: `${shownUrl} answers`,
      variables: {},
      endpoints: [{ label: 'Redis', url: shownUrl }],
    });
  }

  const standardUrl = `redis://${LOCAL}:${REDIS_STANDARD_PORT}`;
  let whyNot = 'asked for a private instance (--private)';
  if (!forced) {
    const probe = await probeRedis(standardUrl);
    if (probe.ok) {
      return found('redis', 'standard port', `Redis answers on ${LOCAL}:${REDIS_STANDARD_PORT}`, {
        detail: `${standardUrl} answers`,
        variables: { REDIS_URL: standardUrl },
        endpoints: [{ label: 'Redis', url: standardUrl }],
      });
    }
    whyNot = probe.answered
      ? `the server on ${LOCAL}:${REDIS_STANDARD_PORT} is not usable (${probe.detail})`
      : `nothing answers on ${standardUrl}`;
  }

  const binary = findBinary('redis-server');
  if (binary) {
    const root = ctx.state.path('redis');
    const leftover = new PrivateRedis(root, binary, 0, '').runningPid();
    const adoptable = leftover && ctx.stack.ports.redis;
    const port = adoptable ? ctx.stack.ports.redis! : await pickPort(ctx, 'redis', REDIS_PRIVATE_PORT);
    ctx.takenPorts.add(port);
    const instance = new PrivateRedis(root, binary, port, ctx.state.path('logs', 'redis.log'));
    const url = `redis://${LOCAL}:${port}`;
    return {
      name: 'redis',
      source: 'private',
      why: `${whyNot}; a private redis-server with its data in ${shown(ctx, instance.dataDir)}`,
      commands: adoptable ? [`(already running: pid ${leftover})`] : instance.commands(),
      warnings: [],
      bringUp: async () => {
        let pid = adoptable && (await probeRedis(url)).ok ? leftover : undefined;
        const adopted = Boolean(pid);
        if (!pid) {
          if (leftover) await stopPid(leftover);
          pid = await instance.start();
        }
        return {
          name: 'redis',
          source: 'private',
          detail: `${adopted ? 'still running from an earlier start' : 'started'} on ${url} (data in ${shown(ctx, instance.dataDir)})`,
          variables: { REDIS_URL: url },
          endpoints: [{ label: 'Redis', url }],
          dataDir: instance.dataDir,
          processes: [{ name: 'redis', pid, kind: 'server', group: false, commandMatch: 'redis-server' }],
          stop: () => instance.stop(),
        };
      },
    };
  }
  if (!forced && (await dockerEngineRuns())) {
    const port = await pickPort(ctx, 'redis', REDIS_STANDARD_PORT);
    const url = `redis://${LOCAL}:${port}`;
    return dockerPlan(
      'redis',
      `${whyNot}; ${installHint('redis-server')}; a Docker engine runs`,
      new ComposeService(ctx.root, 'redis', { REDIS_HOST_PORT: port }),
      {
        variables: { REDIS_URL: url },
        endpoints: [{ label: 'Redis', url }],
      },
    );
  }
  throw new NoServiceError(
    `no Redis to use: ${whyNot}; ${installHint('redis-server')}${forced ? '' : '; and no Docker engine runs (docker info fails)'}`,
  );
}

// -----------------------------------------------------------------------------------------------------------

function dockerPlan(
  name: ServiceName,
  why: string,
  compose: ComposeService,
  service: { variables: Record<string, string>; endpoints: Endpoint[] },
): ServicePlan {
  return {
    name,
    source: 'docker',
    why,
    commands: compose.commands(),
    warnings: [],
    bringUp: async () => {
      await compose.start();
      return {
        name,
        source: 'docker',
        detail: `started with docker compose (service ${compose.service})`,
        processes: [],
        ...service,
        stop: () => compose.stop(),
      };
    },
  };
}

const planners: Record<ServiceName, (ctx: PlanContext) => Promise<ServicePlan>> = {
  postgres: planPostgres,
  nats: planNats,
  redis: planRedis,
};

export function planService(name: ServiceName, ctx: PlanContext): Promise<ServicePlan> {
  return planners[name](ctx);
}

// Starts, for one browser-test run, what the web apps talk to — all fresh, nothing shared with a developer:
// a database cloned from the run's migrated template (tests/harness), a local S3 (s3rver), the API gateway under Deno, the outbox
// relay on its own stream and subject prefix, and `vite preview` of both web builds pointed at that API.
// Tests find the URLs in process.env (BROWSER_*); the returned function stops everything and drops it all.
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import startTestRun from '../harness/global-setup.ts';
import { createTestDatabase, databaseVariables, loadSeed, type TestDatabase } from '../harness/database.ts';
import { launchDenoGateway } from '../harness/deno-gateway.ts';
import { startTestS3 } from '../harness/s3.ts';
import { testServices, uniqueName } from '../harness/services.ts';
import { SupervisedProcess, waitUntil } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { browserUsers, seedBrowserUsers, WATCHED_CONSUMER } from './fixtures/users.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = path.join(root, 'artifacts', 'browser');
const JWT_SECRET = 'browser-test-jwt-secret-0123456789abcdefghijklmnop';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(`browser teardown: ${String(error)}`));
  };
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    throw new Error(
      `no Chromium at ${chromium}: install Debian's (apt-get install chromium, or scripts/setup.sh --for test) or set CHROMIUM_PATH`,
    );
  }
  try {
    mkdirSync(artifacts, { recursive: true });
    const endRun = await startTestRun();
    stops.push(endRun);

    const database: TestDatabase = await createTestDatabase('browser');
    stops.push(() => database.drop());
    await loadSeed(database.sql);
    await seedBrowserUsers(database.sql);

    const [apiPort, metricsPort, cityPort, adminPort] = await Promise.all([
      ephemeralPort(),
      ephemeralPort(),
      ephemeralPort(),
      ephemeralPort(),
    ]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const cityUrl = `http://127.0.0.1:${cityPort}`;
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    // files: the browser PUTs and GETs presigned URLs on this server directly, so its bucket allows the apps' origins
    const s3 = await startTestS3({ corsOrigins: [cityUrl, adminUrl] });
    stops.push(() => s3.stop());
    const stream = uniqueName('MDAO_BROWSER').toUpperCase();
    const subjectPrefix = uniqueName('mdao_browser');
    const environment: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DENO_DIR: process.env.DENO_DIR,
      ENV_FILE: path.join(artifacts, 'no-env-file'), // never a developer's .env
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      ...databaseVariables(database),
      DB_POOL_MAX: '4',
      NATS_URL: testServices.natsUrl,
      NATS_STREAM_EVENTS: stream,
      NATS_SUBJECT_PREFIX: subjectPrefix,
      REDIS_URL: testServices.redisUrl,
      JWT_SECRET,
      DEV_LOGIN_ENABLED: 'true',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      WEB_ORIGINS: `${cityUrl},${adminUrl}`,
      METRICS_PORT: String(metricsPort),
      ...s3.env,
    };

    const api = await launchDenoGateway({
      env: environment,
      port: apiPort,
      logFile: path.join(artifacts, 'api.log'),
      readyPath: '/api/ready',
      timeoutMs: 180_000, // a fresh machine's first Deno run downloads the npm packages
    });
    stops.push(() => api.stop());
    const relay = new SupervisedProcess({
      name: 'relay',
      program: process.execPath,
      args: ['--import', 'tsx', 'workers/outbox-relay/main.ts'],
      env: environment,
      cwd: root,
      logFile: path.join(artifacts, 'relay.log'),
      echo: false,
    });
    stops.push(() => relay.stop());
    stops.push(() => deleteStreams(stream));

    // both builds, pointed at this run's API, served the way production serves them (vercel.json headers)
    process.env.VITE_API_BASE_URL = apiUrl;
    process.env.VITE_STORAGE_URL = s3.endpoint; // the CSP's connect-src
    const previews: PreviewServer[] = [];
    for (const [app, port] of [
      ['city', cityPort],
      ['admin', adminPort],
    ] as const) {
      const configFile = path.join(root, `web/${app}/vite.config.ts`);
      const outDir = path.join(artifacts, 'dist', app);
      await build({ configFile, logLevel: 'warn', build: { outDir } });
      const server = await preview({
        configFile,
        logLevel: 'warn',
        build: { outDir },
        preview: { port, strictPort: true, host: '127.0.0.1' },
      });
      previews.push(server);
      stops.push(() => server.close());
    }

    await api.ready();
    await waitUntil(
      'the relay to hold every outbox lane',
      async () => {
        const [row] = await database.sql<{ held: number }[]>`
          select count(*)::int as held from pg_locks where locktype = 'advisory' and classid = app.outbox_lane_lock_class()::oid and granted
            and database = (select oid from pg_database where datname = current_database())`;
        return row!.held === 16;
      },
      { timeoutMs: 60_000, giveUp: () => (relay.running ? undefined : `relay exited (${relay.exitCode}):\n${relay.tail()}`) },
    );
    await addDurableConsumer(stream, WATCHED_CONSUMER);

    Object.assign(process.env, {
      BROWSER_API_URL: apiUrl,
      BROWSER_CITY_URL: cityUrl,
      BROWSER_ADMIN_URL: adminUrl,
      BROWSER_RELAY_PID: String(relay.pid),
      BROWSER_DATABASE_URL: database.url,
      BROWSER_STREAM: stream,
      BROWSER_USERS: JSON.stringify(browserUsers),
      // what a spec needs to start a worker of its own on this stack (agents.spec.ts starts an agent worker)
      BROWSER_SERVICE_ENV: JSON.stringify(environment),
    });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

async function addDurableConsumer(stream: string, name: string): Promise<void> {
  const nc = await connect({ servers: testServices.natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit });
  } finally {
    await nc.close();
  }
}

async function deleteStreams(stream: string): Promise<void> {
  const nc = await connect({ servers: testServices.natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of [stream, `${stream}_DLQ`]) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

// Makes sure the servers the test suite talks to answer: Postgres, NATS (JetStream) and Redis on their
// standard ports (or TEST_* URLs). A server that is down on this machine is started the way Debian's
// packages start it; anything else ends with a sentence saying what to do.
import { packagesFor } from './binaries.ts';
import { waitUntil } from './processes.ts';
import { NATS_STANDARD_PORT, startSystemNats } from './services/nats.ts';
import { POSTGRES_STANDARD_PORT, startSystemPostgres } from './services/postgres.ts';
import { probeNats, probePostgres, probeRedis, type Probe } from './services/probes.ts';
import { REDIS_STANDARD_PORT, startSystemRedis } from './services/redis.ts';

interface TestServer {
  name: string;
  url: string;
  standardPort: number;
  probe: (url: string) => Promise<Probe>;
  start: () => Promise<void>;
  hint: string;
  /** What to do when the server answers but refuses us (a login, a missing feature). */
  refusedHint: string;
}

const servers: TestServer[] = [
  {
    name: 'PostgreSQL',
    url: process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    standardPort: POSTGRES_STANDARD_PORT,
    probe: (url) => probePostgres(url),
    start: startSystemPostgres,
    hint: `install and start PostgreSQL 15 ${packagesFor('postgres')}`,
    refusedHint:
      'the suite creates and drops its own databases as a superuser: let it in (e.g. `host all postgres 127.0.0.1/32 trust` in pg_hba.conf, then `pg_ctlcluster 15 main reload`), or set TEST_PG_ADMIN_URL to a superuser URL with its password',
  },
  {
    name: 'NATS',
    url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    standardPort: NATS_STANDARD_PORT,
    probe: async (url) => {
      const probe = await probeNats(url);
      return probe.ok && !probe.jetstream ? { ...probe, ok: false, detail: 'it answers with JetStream off' } : probe;
    },
    start: startSystemNats,
    hint: `install and start nats-server with JetStream ${packagesFor('nats-server')}, e.g. \`nats-server -js\``,
    refusedHint: 'restart it with JetStream on (`nats-server -js`), or set TEST_NATS_URL to one that has it',
  },
  {
    name: 'Redis',
    url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    standardPort: REDIS_STANDARD_PORT,
    probe: (url) => probeRedis(url),
    start: startSystemRedis,
    hint: `install and start Redis ${packagesFor('redis-server')}`,
    refusedHint: 'let the suite in without a password, or set TEST_REDIS_URL to a URL with the password (redis://:PASSWORD@host:port)',
  },
];

/** The machine's own server on its standard port: the one a Debian package would run. */
const isSystemServer = (url: string, standardPort: number) =>
  ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname) && Number(new URL(url).port || standardPort) === standardPort;

let failed = false;
for (const server of servers) {
  const where = new URL(server.url).host;
  let probe = await server.probe(server.url);
  if (probe.ok) {
    console.log(`services: ${server.name} answers at ${where}`);
    continue;
  }
  if (isSystemServer(server.url, server.standardPort) && !probe.answered) {
    console.log(`services: ${server.name} is down at ${where}; starting it`);
    await server.start();
    await waitUntil(`${server.name} at ${where}`, async () => (probe = await server.probe(server.url)).ok, {
      timeoutMs: 10_000,
      intervalMs: 200,
    }).catch(() => {});
    if (probe.ok) {
      console.log(`services: ${server.name} started`);
      continue;
    }
  }
  console.error(
    `services: ${server.name} is not usable at ${where} (${probe.detail}): ${probe.answered ? server.refusedHint : server.hint}`,
  );
  failed = true;
}
process.exit(failed ? 1 : 0);

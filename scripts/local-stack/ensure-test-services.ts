// Makes sure the servers the test suite talks to answer: Postgres, NATS (JetStream) and Redis on their
// standard ports (or TEST_* URLs). A server that is down on this machine is started the way Debian's
// packages start it; anything else ends with a sentence saying what to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';

interface Service {
  name: string;
  url: string;
  start: () => void;
  hint: string;
}

const services: Service[] = [
  {
    name: 'PostgreSQL',
    url: process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    start: () => {
      const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
      for (const version of versions) run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    },
    hint: 'install and start PostgreSQL 15 (Debian: apt-get install postgresql-15; Homebrew: brew install postgresql@15)',
  },
  {
    name: 'NATS',
    url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    start: () =>
      run('start-stop-daemon', [
        '--start',
        '--oknodo',
        '--background',
        '--exec',
        '/usr/sbin/nats-server',
        '--',
        '-a',
        '127.0.0.1',
        '-p',
        '4222',
        '-js',
        '-sd',
        '/var/lib/nats-server',
        '-l',
        '/var/log/nats-server.log',
      ]),
    hint: 'install and start nats-server with JetStream (Debian: apt-get install nats-server; Homebrew: brew install nats-server), e.g. `nats-server -js`',
  },
  {
    name: 'Redis',
    url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    start: () => run('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no']),
    hint: 'install and start Redis (Debian: apt-get install redis-server; Homebrew: brew install redis)',
  },
];

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'pipe' });
  if (result.error) console.error(`services: could not run ${command}: ${result.error.message}`);
}

function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const isThisMachine = (url: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname);

let failed = false;
for (const service of services) {
  if (await reachable(service.url)) {
    console.log(`services: ${service.name} answers at ${new URL(service.url).host}`);
    continue;
  }
  if (isThisMachine(service.url)) {
    console.log(`services: ${service.name} is down at ${new URL(service.url).host}; starting it`);
    service.start();
    for (let i = 0; i < 50 && !(await reachable(service.url)); i += 1) await new Promise((r) => setTimeout(r, 200));
  }
  if (await reachable(service.url)) console.log(`services: ${service.name} started`);
  else {
    console.error(`services: ${service.name} does not answer at ${new URL(service.url).host}: ${service.hint}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

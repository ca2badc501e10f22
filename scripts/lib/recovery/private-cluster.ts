// A throwaway PostgreSQL cluster for restores and drills: initdb in a folder of its own, started on a free
// port, listening on 127.0.0.1 only, trust auth (nothing else can reach it), removed by destroy(). Postgres
// refuses to run as root, so as root every server program runs as the postgres user (runuser).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { ephemeralPort } from '../../local-stack/state.ts';
import { runCaptured, waitUntil } from '../../local-stack/processes.ts';

export interface PrivateCluster {
  dir: string;
  dataDir: string;
  port: number;
  /** Superuser URL of a database in it. */
  url(database?: string): string;
  binDir: string;
  /** Runs a server program (pg_ctl, pgbackrest…) as the cluster's owner. */
  runAsOwner(program: string, args: string[], options?: { timeoutMs?: number }): Promise<string>;
  start(): Promise<void>;
  /** Fast shutdown; `immediate` simulates a crash (no checkpoint). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  destroy(): Promise<void>;
}

export function postgresBinDir(): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const binDir = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(path.join(d, 'initdb')));
  if (!binDir) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (Debian: apt-get install postgresql-15)');
  return binDir;
}

const asRoot = () => process.getuid?.() === 0;

/** A folder the cluster's owner can write (as root: chowned to postgres). */
export function ownedDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  return dir;
}

function ownerCommand(program: string, args: string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
}

/** initdb a new cluster in `dir`/pgdata with `settings` in postgresql.auto.conf; not started yet unless `start`. */
export async function createPrivateCluster(
  dir: string,
  { settings = {}, initdb = true }: { settings?: Record<string, string>; initdb?: boolean } = {},
): Promise<PrivateCluster> {
  const binDir = postgresBinDir();
  ownedDir(dir);
  const dataDir = path.join(dir, 'pgdata');
  const port = await ephemeralPort();
  const runAsOwner = async (program: string, args: string[], { timeoutMs = 120_000 } = {}) => {
    const [command, commandArgs] = ownerCommand(program, args);
    const result = await runCaptured(command, commandArgs, { cwd: dir, timeoutMs });
    if (result.code !== 0) throw new Error(`${path.basename(program)} failed: ${result.output.trim()}`);
    return result.output;
  };
  if (initdb) await runAsOwner(path.join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const cluster: PrivateCluster = {
    dir,
    dataDir,
    port,
    binDir,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    runAsOwner,
    async start() {
      // settings go on the command line so they also apply to a data folder restored from elsewhere
      const options = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, port: String(port), ...settings };
      const optionString = Object.entries(options)
        .map(([k, v]) => `-c ${k}=${v.includes(' ') ? `'${v.replace(/'/g, "\\'")}'` : v}`)
        .join(' ');
      await runAsOwner(path.join(binDir, 'pg_ctl'), [
        '-D',
        dataDir,
        '-l',
        path.join(dir, 'postgres.log'),
        '-o',
        optionString,
        '-w',
        '-t',
        '120',
        'start',
      ]);
      await waitUntil(
        'the private cluster to accept connections',
        async () => (await runCaptured('pg_isready', ['-h', '127.0.0.1', '-p', String(port)])).code === 0,
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    },
    async stop(mode = 'fast') {
      if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
      await runAsOwner(path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']).catch(() => undefined);
    },
    async destroy() {
      await cluster.stop('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Appends lines to a file the cluster's owner must read (configuration written by root). */
export function writeOwnedFile(file: string, text: string, append = false): void {
  (append ? appendFileSync : writeFileSync)(file, text, { mode: 0o640 });
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    chownSync(file, uid, 0);
  }
}

// PostgreSQL for the local stack: a private cluster from the host's binaries (initdb + pg_ctl), and the
// Debian way of starting the machine's own cluster (for the test suite).
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findBinary, installHint } from '../binaries.ts';
import { commandLineOf, isAlive, runCaptured, stopPid, waitUntil } from '../processes.ts';

export const POSTGRES_STANDARD_PORT = 5432;
export const POSTGRES_PRIVATE_PORT = 55432;

/** initdb and pg_ctl from one installation, or the sentence saying what to install. */
export function findPostgresBinaries(): { binDir: string } | { missing: string } {
  const initdb = findBinary('initdb');
  if (!initdb) return { missing: installHint('initdb') };
  const binDir = path.dirname(initdb);
  for (const program of ['pg_ctl', 'postgres']) {
    if (!existsSync(path.join(binDir, program))) return { missing: installHint(program) };
  }
  return { binDir };
}

interface SystemUser {
  uid: number;
  gid: number;
  home: string;
}

function systemUser(name: string): SystemUser | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith(`${name}:`));
    const fields = line?.split(':');
    if (!fields || fields.length < 6) return undefined;
    return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '/' };
  } catch {
    return undefined;
  }
}

/**
 * Postgres refuses to run as root. As root the cluster belongs to the `postgres` system user (commands run
 * through `runuser -u postgres`); as anyone else it belongs to that user.
 */
export interface ClusterOwner {
  runAs?: string;
  runuser?: string;
  user?: SystemUser;
  problem?: string;
}

export function clusterOwner(): ClusterOwner {
  if (process.getuid?.() !== 0) return {};
  const user = systemUser('postgres');
  if (!user) {
    return {
      problem:
        'Postgres refuses to run as root and there is no `postgres` user to run it: install postgresql-15 (it creates the user) or run npm run dev as a normal user',
    };
  }
  const runuser = findBinary('runuser');
  if (!runuser) return { problem: installHint('runuser') };
  return { runAs: 'postgres', runuser, user };
}

function nearestExistingDir(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/**
 * Where the private cluster lives: `<state folder>/postgres`, unless the cluster's owner (the `postgres`
 * user, when we are root) cannot reach that folder — e.g. a clone under /root — in which case it lives in
 * that user's home, in a folder named after the state folder. The choice is remembered in stack.json.
 */
export async function choosePostgresRoot(stateRoot: string, remembered: string | undefined, owner: ClusterOwner): Promise<string> {
  if (remembered && existsSync(path.join(remembered, 'data', 'PG_VERSION'))) return remembered;
  const underState = path.join(stateRoot, 'postgres');
  if (!owner.runAs || !owner.runuser) return underState;
  const probe = await runCaptured(owner.runuser, ['-u', owner.runAs, '--', 'test', '-x', nearestExistingDir(stateRoot)], { cwd: '/' });
  if (probe.code === 0) return underState;
  const home = owner.user?.home ?? '/var/lib/postgresql';
  const tag = createHash('sha256').update(path.resolve(stateRoot)).digest('hex').slice(0, 12);
  return path.join(home, 'microdao-local', tag);
}

export class PrivatePostgres {
  readonly dataDir: string;
  private readonly logFile: string;

  constructor(
    readonly root: string,
    private readonly binDir: string,
    private readonly port: number,
    private readonly owner: ClusterOwner,
  ) {
    this.dataDir = path.join(root, 'data');
    this.logFile = path.join(root, 'postgres.log');
  }

  get initialized(): boolean {
    return existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** The postmaster of this cluster and its port, if one is running (e.g. left by a killed launcher). */
  running(): { pid: number; port: number } | undefined {
    try {
      const lines = readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n');
      const pid = Number(lines[0]);
      const port = Number(lines[3]);
      if (pid > 0 && isAlive(pid) && (commandLineOf(pid) ?? '').includes('postgres')) return { pid, port };
    } catch {
      // no pid file: not running
    }
    return undefined;
  }

  private command(program: string, args: string[]): [string, string[]] {
    const binary = path.join(this.binDir, program);
    const { runAs, runuser } = this.owner;
    return runAs && runuser ? [runuser, ['-u', runAs, '--', binary, ...args]] : [binary, args];
  }

  private initdbArgs(): string[] {
    return ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
  }

  private startArgs(): string[] {
    // TCP only: no Unix socket, so no shared socket directory and no path-length limit
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    return ['-D', this.dataDir, '-l', this.logFile, '-o', options, '-w', '-t', '60', 'start'];
  }

  /** The commands a start runs, for --dry-run. */
  commands(): string[] {
    const show = ([program, args]: [string, string[]]) => [program, ...args.map((a) => (/[\s']/.test(a) ? `"${a}"` : a))].join(' ');
    const steps = [];
    if (!this.initialized) steps.push(show(this.command('initdb', this.initdbArgs())));
    steps.push(show(this.command('pg_ctl', this.startArgs())));
    return steps;
  }

  async start(): Promise<void> {
    mkdirSync(this.root, { recursive: true, mode: 0o755 });
    if (this.owner.user) chownSync(this.root, this.owner.user.uid, this.owner.user.gid);
    if (!this.initialized) {
      const [program, args] = this.command('initdb', this.initdbArgs());
      const result = await runCaptured(program, args, { cwd: '/' });
      if (result.code !== 0) throw new Error(`initdb failed for ${this.dataDir}:\n${result.output.trim()}`);
    }
    const [program, args] = this.command('pg_ctl', this.startArgs());
    const result = await runCaptured(program, args, { cwd: '/', timeoutMs: 90_000 });
    if (result.code !== 0) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
      throw new Error(`the private Postgres did not start (${this.logFile}):\n${result.output.trim()}\n${log}`);
    }
  }

  async stop(): Promise<void> {
    const running = this.running();
    if (!running) return;
    const [program, args] = this.command('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
    const result = await runCaptured(program, args, { cwd: '/', timeoutMs: 70_000 });
    if (result.code !== 0) await stopPid(running.pid);
    // pg_ctl returns once the pid file is gone, a moment before the postmaster itself
    await waitUntil('the private Postgres to exit', () => !isAlive(running.pid), { timeoutMs: 10_000 });
  }
}

/** Starts the machine's own clusters the way Debian's init scripts do (the test suite's fallback). */
export async function startSystemPostgres(): Promise<void> {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  for (const version of versions) await runCaptured('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
}

// The launcher's state folder (default: the git-ignored .local/ of the repo): private servers' data and
// logs, and stack.json, which remembers the chosen ports (so a second start finds its data where it left
// it) and what is running (for --status, --stop and cleaning up after a launcher that was killed).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ephemeralPort, isPortFree } from '../../workers/lib/ports.ts';
import { commandLineOf, isAlive } from './processes.ts';

export { ephemeralPort, isPortFree };

export type PortName = 'postgres' | 'nats' | 'natsMonitoring' | 'redis' | `app:${string}`;

export interface RecordedProcess {
  name: string;
  pid: number;
  /** app: started by this launcher, stopped with it; server: a private server (stopped after the apps). */
  kind: 'app' | 'server';
  /** Stop the whole process group (apps run in their own group). */
  group: boolean;
  /** A fragment of its command line, so a reused pid is never mistaken for ours. */
  commandMatch: string;
}

export interface RecordedService {
  source: string;
  detail: string;
  urls: { label: string; url: string }[];
}

export interface StackState {
  ports: Partial<Record<PortName, number>>;
  /** Per database (URL without password): the compat bootstrap's hash when `migrate.sh up` last ran for it. */
  migrated?: Record<string, string>;
  /** Where the private Postgres cluster lives when it cannot live under the state folder (see postgres.ts). */
  postgresRoot?: string;
  launcher?: { pid: number; startedAt: string; readyAt?: string; readyInMs?: number };
  processes: RecordedProcess[];
  services: Partial<Record<string, RecordedService>>;
  apps: { name: string; urls: { label: string; url: string }[] }[];
}

const emptyState = (): StackState => ({ ports: {}, processes: [], services: {}, apps: [] });

export class StateFolder {
  constructor(readonly root: string) {}

  path(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  get logDir(): string {
    return this.path('logs');
  }

  /** Creates the folder (and logs/); readable by others so a `postgres` system user can reach its cluster. */
  ensure(): void {
    mkdirSync(this.logDir, { recursive: true, mode: 0o755 });
  }

  read(): StackState {
    const file = this.path('stack.json');
    if (!existsSync(file)) return emptyState();
    try {
      return { ...emptyState(), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<StackState>) };
    } catch {
      return emptyState();
    }
  }

  write(state: StackState): void {
    const file = this.path('stack.json');
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  /** The pid of a launcher that holds this folder, if one is alive. */
  lockHolder(): number | undefined {
    const file = this.path('launcher.lock');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) && (commandLineOf(pid) ?? '').includes('local-stack')) {
      return pid;
    }
    return undefined;
  }

  /** One launcher per state folder: a second one would fight the first over ports and data. */
  acquireLock(): void {
    const file = this.path('launcher.lock');
    const holder = this.lockHolder();
    if (holder) {
      throw new Error(
        `another launcher (pid ${holder}) is running on ${this.root}; stop it with Ctrl-C in its terminal or \`npm run dev -- --stop\``,
      );
    }
    rmSync(file, { force: true });
    const fd = openSync(file, 'wx');
    writeFileSync(fd, `${process.pid}\n`);
    closeSync(fd);
  }

  releaseLock(): void {
    const file = this.path('launcher.lock');
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
  }
}

/**
 * The port remembered from an earlier start if it is still free, else the preferred one, else any free one:
 * stable across restarts, never clobbering a port someone else took in the meantime.
 */
export async function choosePort(remembered: number | undefined, preferred: number, taken: Set<number>): Promise<number> {
  for (const candidate of [remembered, preferred]) {
    if (candidate && !taken.has(candidate) && (await isPortFree(candidate))) return candidate;
  }
  for (;;) {
    const port = await ephemeralPort();
    if (!taken.has(port)) return port;
  }
}

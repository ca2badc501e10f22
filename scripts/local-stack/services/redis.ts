// Redis for the local stack: a private redis-server (append-only file, so a second start keeps the data)
// from a config file written on each start; and the plain way of starting the machine's own server.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLineOf, isAlive, runCaptured, stopPid, SupervisedProcess, waitUntil } from '../processes.ts';
import { probeRedis } from './probes.ts';

export const REDIS_STANDARD_PORT = 6379;
export const REDIS_PRIVATE_PORT = 56379;

export class PrivateRedis {
  readonly configFile: string;
  readonly dataDir: string;
  private readonly pidFile: string;
  private process: SupervisedProcess | undefined;

  constructor(
    readonly root: string,
    private readonly binary: string,
    readonly port: number,
    private readonly logFile: string,
  ) {
    this.configFile = path.join(root, 'redis.conf');
    this.dataDir = path.join(root, 'data');
    this.pidFile = path.join(root, 'redis.pid');
  }

  config(): string {
    return [
      '# Written by scripts/local-stack (npm run dev) on every start: edits here are overwritten.',
      'bind 127.0.0.1',
      `port ${this.port}`,
      'protected-mode yes',
      'daemonize no',
      `dir ${JSON.stringify(this.dataDir)}`,
      `pidfile ${JSON.stringify(this.pidFile)}`,
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      'logfile ""',
      '',
    ].join('\n');
  }

  commands(): string[] {
    return [`write ${this.configFile} (data in ${this.dataDir}, port ${this.port})`, `${this.binary} ${this.configFile}`];
  }

  runningPid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    return pid > 0 && isAlive(pid) && (commandLineOf(pid) ?? '').includes('redis-server') ? pid : undefined;
  }

  async start(): Promise<number> {
    mkdirSync(this.dataDir, { recursive: true });
    writeFileSync(this.configFile, this.config());
    const child = new SupervisedProcess({
      name: 'redis',
      program: this.binary,
      args: [this.configFile],
      env: process.env,
      cwd: this.root,
      logFile: this.logFile,
      echo: false,
    });
    this.process = child;
    await waitUntil('the private Redis to answer PING', async () => (await probeRedis(`redis://127.0.0.1:${this.port}`, 1000)).ok, {
      timeoutMs: 30_000,
      giveUp: () => (child.running ? undefined : `redis-server exited (${this.logFile}):\n${child.tail()}`),
    });
    return child.pid;
  }

  async stop(): Promise<void> {
    if (this.process) await this.process.stop();
    const pid = this.runningPid();
    if (pid) await stopPid(pid);
  }
}

/** Starts the machine's own Redis on 6379 (the test suite's fallback when it is down). */
export async function startSystemRedis(): Promise<void> {
  await runCaptured('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '--port',
    String(REDIS_STANDARD_PORT),
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
}

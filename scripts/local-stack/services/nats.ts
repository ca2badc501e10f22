// NATS for the local stack: a private nats-server with JetStream and a monitoring port (/healthz, /jsz for
// the nats-exporter), from a config file written on each start; and the Debian way of starting the machine's
// own server (for the test suite). No WebSocket listener: nothing connects over one (the gateway and workers
// use TCP, browsers get live updates as SSE from the gateway), and an open one would be unauthenticated.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLineOf, httpStatus, isAlive, runCaptured, stopPid, SupervisedProcess, waitUntil } from '../processes.ts';

export const NATS_STANDARD_PORT = 4222;
export const NATS_PRIVATE_PORTS = { nats: 54222, natsMonitoring: 58222 };

export interface NatsPorts {
  client: number;
  monitoring: number;
}

export class PrivateNats {
  readonly configFile: string;
  readonly storeDir: string;
  private readonly pidFile: string;
  private process: SupervisedProcess | undefined;

  constructor(
    readonly root: string,
    private readonly binary: string,
    readonly ports: NatsPorts,
    private readonly logFile: string,
  ) {
    this.configFile = path.join(root, 'nats.conf');
    this.storeDir = path.join(root, 'jetstream');
    this.pidFile = path.join(root, 'nats.pid');
  }

  config(): string {
    return [
      '# Written by scripts/local-stack (npm run dev) on every start: edits here are overwritten.',
      'server_name: "microdao-local"',
      `listen: "127.0.0.1:${this.ports.client}"`,
      `http: "127.0.0.1:${this.ports.monitoring}"`,
      `pid_file: ${JSON.stringify(this.pidFile)}`,
      'jetstream {',
      `  store_dir: ${JSON.stringify(this.storeDir)}`,
      '}',
      '',
    ].join('\n');
  }

  commands(): string[] {
    return [
      `write ${this.configFile} (JetStream in ${this.storeDir}, monitoring 127.0.0.1:${this.ports.monitoring})`,
      `${this.binary} -c ${this.configFile}`,
    ];
  }

  /** The pid of this folder's server if it is still running from an earlier start. */
  runningPid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    return pid > 0 && isAlive(pid) && (commandLineOf(pid) ?? '').includes('nats-server') ? pid : undefined;
  }

  async healthy(): Promise<boolean> {
    // JetStream ready, not just the port open
    return (await httpStatus(`http://127.0.0.1:${this.ports.monitoring}/healthz?js-enabled-only=true`, 1000)) === 200;
  }

  async start(): Promise<number> {
    mkdirSync(this.storeDir, { recursive: true });
    writeFileSync(this.configFile, this.config());
    const child = new SupervisedProcess({
      name: 'nats',
      program: this.binary,
      args: ['-c', this.configFile],
      env: process.env,
      cwd: this.root,
      logFile: this.logFile,
      echo: false,
    });
    this.process = child;
    await waitUntil('the private NATS to accept connections', () => this.healthy(), {
      timeoutMs: 30_000,
      giveUp: () => (child.running ? undefined : `nats-server exited (${this.logFile}):\n${child.tail()}`),
    });
    return child.pid;
  }

  async stop(): Promise<void> {
    if (this.process) await this.process.stop();
    const pid = this.runningPid();
    if (pid) await stopPid(pid);
  }

  /** SIGKILL, no goodbye to its clients: what a crash looks like to them (tests take NATS away like this). */
  async kill(): Promise<void> {
    if (!this.process) return;
    this.process.kill();
    await this.process.exited;
  }
}

/** Starts the machine's own NATS (JetStream on 4222) the way Debian's package would. */
export async function startSystemNats(): Promise<void> {
  await runCaptured('start-stop-daemon', [
    '--start',
    '--oknodo',
    '--background',
    '--exec',
    '/usr/sbin/nats-server',
    '--',
    '-a',
    '127.0.0.1',
    '-p',
    String(NATS_STANDARD_PORT),
    '-js',
    '-sd',
    '/var/lib/nats-server',
    '-l',
    '/var/log/nats-server.log',
  ]);
}

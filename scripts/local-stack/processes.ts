// Process supervision for the local stack: start children in their own process group (so Ctrl-C reaches
// only the launcher, which then stops them in order), prefix and log their output, wait for conditions,
// stop a process and everything it spawned.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { linePrefixer } from './report.ts';

/** True while the process exists and is not a zombie (exited, waiting for its parent to reap it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // "pid (name) S ...": the state follows the last parenthesis
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) is all we know
  }
}

/** The command line of a running process, to tell our own leftovers from a reused pid. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    try {
      return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TimeoutError extends Error {}

/** Polls `check` until it is true; throws a TimeoutError naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 100, giveUp }: { timeoutMs: number; intervalMs?: number; giveUp?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const reason = giveUp?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (Date.now() > deadline) throw new TimeoutError(`${what}: no success within ${Math.round(timeoutMs / 1000)}s`);
    await sleep(intervalMs);
  }
}

export interface CapturedRun {
  code: number | null;
  output: string;
}

/** Runs a command to completion, capturing stdout and stderr together. */
export function runCaptured(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CapturedRun> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}${error.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Sends `signal` to a process group (or a single process), ignoring one that is already gone. */
function signalProcess(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // already gone
  }
}

/** Stops a process we did not spawn ourselves (adopted from an earlier start): TERM, then KILL. */
export async function stopPid(pid: number, { group = false, timeoutMs = 15_000 } = {}): Promise<void> {
  if (!isAlive(pid)) return;
  signalProcess(pid, 'SIGTERM', group);
  try {
    await waitUntil(`process ${pid} to exit`, () => !isAlive(pid), { timeoutMs });
  } catch {
    signalProcess(pid, 'SIGKILL', group);
    await waitUntil(`process ${pid} to exit after SIGKILL`, () => !isAlive(pid), { timeoutMs: 5000 });
  }
}

export interface SupervisedOptions {
  name: string;
  program: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  /** Echo each output line to the terminal prefixed with the name (apps); servers only log to the file. */
  echo: boolean;
}

/** A child in its own process group whose output goes to a log file and, for apps, to the terminal. */
export class SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;
  private readonly child: ChildProcess;
  private readonly logFile: string;
  private readonly recentLines: string[] = [];

  constructor(options: SupervisedOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    // Servers write straight to their log file, so they outlive a launcher that was killed (and are
    // adopted by the next start); apps go through a pipe so their lines can be prefixed on the terminal.
    const logFd = options.echo ? undefined : openSync(options.logFile, 'a');
    this.child = spawn(options.program, options.args, {
      env: options.env,
      cwd: options.cwd,
      detached: true,
      stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
    });
    if (logFd !== undefined) closeSync(logFd);
    if (options.echo) {
      const log = createWriteStream(options.logFile, { flags: 'a' });
      const print = linePrefixer(options.name);
      for (const stream of [this.child.stdout, this.child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
          log.write(`${line}\n`);
          this.recentLines.push(line);
          if (this.recentLines.length > 20) this.recentLines.shift();
          print(line);
        });
      }
      this.child.once('close', () => log.end());
    }
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.recentLines.push(error.message);
        this.exitCode = null;
        resolve(null);
      });
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      });
    });
    this.pid = this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines it printed, for an error message when it dies early. */
  tail(lines = 10): string {
    if (this.recentLines.length > 0) return this.recentLines.slice(-lines).join('\n');
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** SIGTERM to its whole process group, SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    signalProcess(this.pid, 'SIGTERM', true);
    const killed = await Promise.race([this.exited.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (killed) {
      signalProcess(this.pid, 'SIGKILL', true);
      await this.exited;
    }
    // a child of the child may outlive it; the group signal reached it, make sure it is gone
    signalProcess(this.pid, 'SIGKILL', true);
  }

  kill(): void {
    signalProcess(this.pid, 'SIGKILL', true);
  }
}

/** The HTTP status of a GET, or undefined when nothing answers in time. */
export async function httpStatus(url: string, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

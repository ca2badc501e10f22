// Runs `npm run dev` (scripts/dev.sh) the way a person would, for the launcher's tests and its start-time
// benchmark: its own state folder and env file, none of the caller's platform settings, output collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEnvFile } from '../../functions/_shared/env-file.ts';
import type { StackState } from '../../scripts/local-stack/state.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A folder the `postgres` system user can reach (mkdtemp makes it 0700), for a private cluster as root. */
export function makeStateRoot(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** The environment of a person's shell: no test runner variables and none of the platform's settings. */
export function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const platformNames = new Set(Object.keys(readEnvFile(path.join(ROOT, '.env.example'))));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (platformNames.has(name) || name.startsWith('VITEST') || name === 'NODE_ENV' || name.startsWith('LOCAL_STACK_')) continue;
    env[name] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** An env file for the launcher: the local defaults plus these overrides. */
export function writeEnvFile(dir: string, values: Record<string, string | number>): string {
  const file = path.join(dir, 'test.env');
  const lines = [
    'APP_ENV=local',
    'JWT_SECRET=local-launcher-test-jwt-secret-0123456789abcdef',
    'SESSION_SECRET=local-launcher-test-session-secret-0123456789',
    'DEV_LOGIN_ENABLED=true',
    ...Object.entries(values).map(([name, value]) => `${name}=${value}`),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Ports for the web apps, written where the launcher remembers ports (stack.json), so a run never takes
 * 5173/5174 from a browser test or a developer's platform running at the same time.
 */
export function rememberWebPorts(stateDir: string, ports: { city: number; admin: number }): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const state = { ports: { 'app:web-city': ports.city, 'app:web-admin': ports.admin }, processes: [], services: {}, apps: [] };
  writeFileSync(path.join(stateDir, 'stack.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export class LauncherRun {
  output = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly startedAt = performance.now();

  /** `npm run dev -- args` (through scripts/dev.sh), or with `direct` the launcher alone, without PATH lookups. */
  constructor(args: string[], env: NodeJS.ProcessEnv, { direct = false } = {}) {
    const [program, programArgs] = direct
      ? [process.execPath, ['--import', 'tsx', 'scripts/local-stack/main.ts', ...args]]
      : ['bash', ['scripts/dev.sh', ...args]];
    this.child = spawn(program, programArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the match once the output shows `pattern`; rejects with the output if it exits first. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (exitCode !== undefined) throw new Error(`the launcher exited (${exitCode}) before ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Seconds from spawning `npm run dev` until it printed "ready". */
  async waitUntilReady(timeoutMs = 120_000): Promise<number> {
    await this.waitFor(/^dev: ready in /m, timeoutMs);
    return (performance.now() - this.startedAt) / 1000;
  }

  async stop(signal: NodeJS.Signals, timeoutMs = 60_000): Promise<number | null> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function readStack(stateDir: string): StackState {
  return JSON.parse(readFileSync(path.join(stateDir, 'stack.json'), 'utf8')) as StackState;
}

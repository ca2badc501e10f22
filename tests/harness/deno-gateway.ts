// The API gateway really running under Deno (functions/api/serve-local.ts), started with the command
// `npm run dev` uses and supervised by the local stack's SupervisedProcess: on a free port, with only the
// variables it is given plus what Deno needs from this process, its stdout and stderr in a log file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { denoGatewayCommand } from '../../scripts/local-stack/apps.ts';
import { httpStatus, SupervisedProcess, waitUntil } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The program, arguments and folder the gateway runs with (e.g. for spawnSync when it must refuse to start). */
export const denoGateway = { ...denoGatewayCommand(repoRoot), cwd: repoRoot };

/** The Edge Function's own entry (functions/api/index.ts) under Deno, through tests/harness/edge-function.ts. */
export const denoEdgeFunction = {
  program: denoGateway.program,
  args: ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'tests/harness/edge-function.ts'],
  cwd: repoRoot,
};

/** Only what Deno needs from this process (PATH, its cache, the registry), plus `variables`: nothing else leaks in. */
export function denoEnvironment(variables: Record<string, string | undefined>): Record<string, string> {
  const inherited = ['PATH', 'HOME', 'DENO_DIR', 'XDG_CACHE_HOME', 'NPM_CONFIG_REGISTRY'].map((name) => [name, process.env[name]]);
  return Object.fromEntries(
    [...inherited, ...Object.entries(variables)].filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

export interface DenoGatewayOptions {
  /** The gateway's variables; API_HOST and API_PORT are set here. */
  env: Record<string, string | undefined>;
  /** Default: a free one. */
  port?: number;
  /** Default: a temporary file, deleted by stop() (output() keeps its text). */
  logFile?: string;
  /** What answers 200 once the gateway is up (default /api/health). */
  readyPath?: string;
  /** Default 180 s: a fresh machine's first Deno run downloads the npm packages. */
  timeoutMs?: number;
  /** serve-local.ts (default) or the Edge Function entry index.ts, served at /api/... as Supabase passes it. */
  entry?: 'serve-local' | 'edge-function';
  /** Open Deno's inspector on 127.0.0.1:<port> (benchmarks profile the gateway through it). */
  inspectPort?: number;
}

export interface DenoGateway {
  /** http://127.0.0.1:<port>; the API is under /api and /functions/v1/api. */
  url: string;
  port: number;
  process: SupervisedProcess;
  /** Resolves once readyPath answers 200; fails with the gateway's output if it exits first or times out. */
  ready(): Promise<void>;
  /** What it printed on stdout and stderr so far (all of it once stopped). */
  output(): string;
  /** SIGTERM (it shuts down cleanly), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Starts the gateway without waiting for it (to do something else meanwhile); await ready() before using it. */
export async function launchDenoGateway(options: DenoGatewayOptions): Promise<DenoGateway> {
  const port = options.port ?? (await ephemeralPort());
  const url = `http://127.0.0.1:${port}`;
  const ownDir = options.logFile ? undefined : mkdtempSync(path.join(tmpdir(), 'mdao-gateway-'));
  const logFile = options.logFile ?? path.join(ownDir!, 'api.log');
  const readyPath = options.readyPath ?? '/api/health';
  const command = options.entry === 'edge-function' ? denoEdgeFunction : denoGateway;
  const [run, ...rest] = command.args;
  const args = options.inspectPort ? [run!, `--inspect=127.0.0.1:${options.inspectPort}`, ...rest] : command.args;
  const child = new SupervisedProcess({
    name: 'api',
    ...command,
    args,
    env: denoEnvironment({
      ...options.env,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      ...(options.entry === 'edge-function' ? { DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` } : {}),
    }),
    logFile,
    echo: false,
  });
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let finalOutput: string | undefined;
  return {
    url,
    port,
    process: child,
    async ready() {
      try {
        await waitUntil(`the gateway to answer ${readyPath}`, async () => (await httpStatus(`${url}${readyPath}`)) === 200, {
          timeoutMs: options.timeoutMs ?? 180_000,
          intervalMs: 200,
          giveUp: () => (child.running ? undefined : `it exited with ${child.exitCode}`),
        });
      } catch (error) {
        throw new Error(`${(error as Error).message}; its output:\n${readLog()}`, { cause: error });
      }
    },
    output: () => finalOutput ?? readLog(),
    async stop() {
      await child.stop();
      if (finalOutput !== undefined) return;
      finalOutput = readLog();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

/** Starts the gateway and waits until readyPath answers; stop() it when done. */
export async function startDenoGateway(options: DenoGatewayOptions): Promise<DenoGateway> {
  const gateway = await launchDenoGateway(options);
  try {
    await gateway.ready();
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return gateway;
}

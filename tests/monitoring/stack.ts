// Private servers for the observability tests: Prometheus, exporters, a throwaway Postgres cluster and the
// platform's own processes (the private nats-server is tests/harness/nats.ts), each on free ports with its own
// temp directory, supervised by the local stack's SupervisedProcess and stopped by the test that started them.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { SupervisedProcess, httpStatus, runCaptured, waitUntil } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export function tempDir(label: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `mdao-${label}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Started {
  process: SupervisedProcess;
  stop(): Promise<void>;
}

/** Starts a program and waits until it is ready (a URL answering 200, or a check); its last output lines
    explain a failure. */
export async function startAndWait(
  name: string,
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; logDir: string; ready: string | (() => Promise<boolean>); timeoutMs?: number },
): Promise<Started> {
  const { ready } = options;
  const isReady = typeof ready === 'string' ? async () => (await httpStatus(ready)) === 200 : ready;
  const child = new SupervisedProcess({
    name,
    program,
    args,
    env: options.env ?? process.env,
    cwd: repoRoot,
    logFile: path.join(options.logDir, `${name}.log`),
    echo: false,
  });
  try {
    await waitUntil(`${name} to be ready${typeof ready === 'string' ? ` at ${ready}` : ''}`, isReady, {
      timeoutMs: options.timeoutMs ?? 30_000,
      giveUp: () => (child.running ? undefined : `exited with ${child.exitCode}:\n${child.tail()}`),
    });
  } catch (error) {
    await child.stop(2000);
    throw error;
  }
  return { process: child, stop: () => child.stop(5000) };
}

/** The body of a GET, failing the test with the status when it is not 200. */
export async function fetchText(url: string, timeoutMs = 5000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 300)}`);
  return body;
}

/** The value of one series in a text-format scrape, or undefined when the series is absent. */
export function sampleValue(scrape: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of scrape.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

export interface PrivatePostgres extends Started {
  /** Superuser URL of the cluster's postgres database. */
  url: string;
  port: number;
}

/** A throwaway PostgreSQL cluster (initdb in `dir`), e.g. to preload pg_stat_statements, which the shared
    server may lack. Postgres refuses to run as root, so as root it runs as the postgres user. */
export async function startPrivatePostgres(dir: string, settings: Record<string, string> = {}): Promise<PrivatePostgres> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const binDir = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(path.join(d, 'initdb')));
  if (!binDir) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (Debian: apt-get install postgresql-15)');
  const asRoot = process.getuid?.() === 0;
  const dataDir = path.join(dir, 'pgdata');
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
  const as = (program: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
  execFileSync(...as(path.join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']), {
    stdio: 'pipe',
  });
  const port = await ephemeralPort();
  const options = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...settings };
  const [program, args] = as(path.join(binDir, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(options).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ]);
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const started = await startAndWait('postgres', program, args, {
    logDir: dir,
    ready: async () => (await runCaptured('pg_isready', ['-h', '127.0.0.1', '-p', String(port)])).code === 0,
  });
  return { ...started, url, port };
}

export interface Exporter extends Started {
  url: string;
}

/** prometheus-postgres-exporter (Debian) with the repository's queries, scraping `databaseUrl`. */
export async function startPostgresExporter(databaseUrl: string, dir: string): Promise<Exporter> {
  // lib/pq defaults to sslmode=require; the servers here have no TLS
  const dataSource = new URL(databaseUrl);
  if (!dataSource.searchParams.has('sslmode')) dataSource.searchParams.set('sslmode', 'disable');
  const port = await ephemeralPort();
  const url = `http://127.0.0.1:${port}`;
  const started = await startAndWait(
    'postgres-exporter',
    'prometheus-postgres-exporter',
    [`--web.listen-address=127.0.0.1:${port}`, `--extend.query-path=${path.join(repoRoot, 'monitoring/postgres-exporter/queries.yaml')}`],
    { env: { ...process.env, DATA_SOURCE_NAME: dataSource.toString() }, logDir: dir, ready: `${url}/metrics` },
  );
  return { ...started, url };
}

export interface PrometheusServer extends Started {
  url: string;
  /** The configuration it runs: monitoring/prometheus.yml with the test's targets. */
  configPath: string;
  query(expr: string): Promise<PromQueryResult>;
}

export type PromQueryResult =
  { ok: true; resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] } | { ok: false; error: string };

/**
 * Prometheus (Debian) running the repository's monitoring/prometheus.yml and rules, with each local job's
 * target(s) pointed at test processes and everything scraped and evaluated every second. Jobs the test does not
 * name are dropped (the per-environment ones); naming a job the configuration lacks fails.
 */
export async function startPrometheus(dir: string, targets: Record<string, string | string[]>): Promise<PrometheusServer> {
  const committed = parseYaml(readFileSync(path.join(repoRoot, 'monitoring/prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs?: { targets: string[]; labels?: Record<string, string> }[] }[];
  };
  const port = await ephemeralPort();
  const url = `http://127.0.0.1:${port}`;
  const jobs = committed.scrape_configs.filter((job) => job.job_name in targets);
  const missing = Object.keys(targets).filter((name) => !jobs.some((job) => job.job_name === name));
  if (missing.length) throw new Error(`monitoring/prometheus.yml has no job ${missing.join(', ')}`);
  const config = {
    global: { ...committed.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: committed.rule_files.map((file) => path.join(repoRoot, 'monitoring', file)),
    scrape_configs: jobs.map((job) => ({
      ...job,
      static_configs: (job.static_configs ?? [{ targets: [] }]).map((group) => ({
        ...group,
        targets: [targets[job.job_name]!].flat().map((target) => target.replace('{self}', `127.0.0.1:${port}`)),
      })),
    })),
  };
  const configPath = path.join(dir, 'prometheus.yml');
  writeFileSync(configPath, stringifyYaml(config));
  const started = await startAndWait(
    'prometheus',
    'prometheus',
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { logDir: dir, ready: `${url}/-/ready` },
  );
  const query = async (expr: string): Promise<PromQueryResult> => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success' || !body.data) return { ok: false, error: body.error ?? `HTTP ${response.status}` };
    const result = Array.isArray(body.data.result) ? body.data.result : [{ metric: {}, value: body.data.result }];
    return { ok: true, resultType: body.data.resultType, result: result as { metric: Record<string, string>; value?: [number, string] }[] };
  };
  return { ...started, url, configPath, query };
}

// Readiness of a worker process: whether the connections it works through answer right now. Every NATS
// connection (nats.ts) and Postgres pool (postgres.ts) a worker opens registers itself here and leaves when it
// is closed, so /readyz (metrics-server.ts) reflects them without each main.ts wiring it. Liveness (/healthz)
// deliberately does not: a worker rides out a NATS or database outage, and restarting it would not help.

/** Resolves when the dependency answers; rejects (or outlasts the timeout) when it does not. */
export type DependencyProbe = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  /** Per dependency: 'ok' or why not. */
  checks: Record<string, string>;
}

const PROBE_TIMEOUT_MS = 2000;
const dependencies = new Set<{ name: string; probe: DependencyProbe }>();

/** Adds a dependency to this process's readiness; returns the function that removes it again. */
export function registerDependency(name: string, probe: DependencyProbe): () => void {
  const entry = { name, probe };
  dependencies.add(entry);
  return () => dependencies.delete(entry);
}

async function probeOnce(probe: DependencyProbe, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([probe().then(() => 'ok'), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Probes every registered dependency at once. A process without any (the NATS exporter) is ready while it serves. */
export async function checkReadiness(timeoutMs = PROBE_TIMEOUT_MS): Promise<ReadinessReport> {
  const entries = [...dependencies];
  const results = await Promise.all(entries.map((entry) => probeOnce(entry.probe, timeoutMs)));
  const checks: Record<string, string> = {};
  entries.forEach((entry, index) => {
    let name = entry.name;
    for (let n = 2; name in checks; n += 1) name = `${entry.name} ${n}`;
    checks[name] = results[index]!;
  });
  return { ready: results.every((result) => result === 'ok'), checks };
}

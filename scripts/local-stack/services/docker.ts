// The Docker route: where a Docker engine runs, the backing services missing on the host come from the
// repo's docker-compose.yml, published on the ports the launcher chose (see the *_HOST_PORT variables there).
import path from 'node:path';
import { findBinary } from '../binaries.ts';
import { runCaptured } from '../processes.ts';

let engineRuns: Promise<boolean> | undefined;

/** True when `docker info` succeeds, i.e. an engine answers (a docker CLI alone is not enough). */
export function dockerEngineRuns(): Promise<boolean> {
  engineRuns ??= (async () => {
    if (!findBinary('docker')) return false;
    const info = await runCaptured('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
    return info.code === 0;
  })();
  return engineRuns;
}

export class ComposeService {
  constructor(
    private readonly root: string,
    readonly service: string,
    /** Host ports to publish, as the compose file's interpolation variables. */
    private readonly hostPorts: Record<string, number>,
  ) {}

  private args(...rest: string[]): string[] {
    return ['compose', '-f', path.join(this.root, 'docker-compose.yml'), ...rest];
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, ...Object.fromEntries(Object.entries(this.hostPorts).map(([name, port]) => [name, String(port)])) };
  }

  commands(): string[] {
    const vars = Object.entries(this.hostPorts).map(([name, port]) => `${name}=${port}`);
    return [[...vars, 'docker', ...this.args('up', '-d', '--wait', this.service)].join(' ')];
  }

  async start(): Promise<void> {
    const result = await runCaptured('docker', this.args('up', '-d', '--wait', this.service), { env: this.env(), cwd: this.root });
    if (result.code !== 0) throw new Error(`docker compose could not start ${this.service}:\n${result.output.trim()}`);
  }

  /** Stops the container and keeps its named volume, so the next start has the data. */
  async stop(): Promise<void> {
    await runCaptured('docker', this.args('stop', this.service), { env: this.env(), cwd: this.root, timeoutMs: 60_000 });
  }
}

// Every worker has an image, checked without a Docker engine: the Dockerfiles are the ones workers/images.ts
// generates, their COPY lines carry every file the worker loads (its import graph) and the .dockerignore lets
// those through, every package it imports is a production dependency, they run as a non-root user, bake in no
// secret, and their HEALTHCHECK — run as Docker would run it — is healthy only while the worker serves /healthz.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../functions/_shared/config.ts';
import { Registry } from '../../functions/_shared/metrics.ts';
import {
  copySources,
  dockerfilePath,
  dockerignorePath,
  generatedFiles,
  importGraph,
  repoRoot,
  runtimeImports,
} from '../../scripts/worker-images.ts';
import { serveMetrics } from '../../workers/lib/metrics-server.ts';
import { WORKER_IMAGES, type WorkerImage } from '../../workers/images.ts';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

/** Dockerfile instructions with their continuation lines joined and comments dropped. */
function instructions(dockerfile: string): { keyword: string; args: string }[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

/** Every workers/**\/main.ts: each is a process that needs an image. */
function workerEntries(dir = 'workers'): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : workerEntries(relative);
    return entry.name === 'main.ts' ? [relative] : [];
  });
}

function runHealthcheck(image: WorkerImage, port: number): Promise<number> {
  const healthcheck = instructions(read(dockerfilePath(image))).find((i) => i.keyword === 'HEALTHCHECK')!;
  const command = JSON.parse(healthcheck.args.slice(healthcheck.args.indexOf('CMD ') + 4)) as string[];
  return new Promise((resolve) => {
    execFile(
      command[0]!,
      command.slice(1),
      { timeout: 10_000, env: { PATH: process.env.PATH, [image.port.variable]: String(port) } },
      (error) => resolve(error ? (typeof error.code === 'number' ? error.code : -1) : 0),
    );
  });
}

describe('worker images', () => {
  it('has an image entry for every worker entry point, and each entry file exists', () => {
    const covered = new Set(WORKER_IMAGES.map((image) => image.entry));
    expect(workerEntries().filter((entry) => !covered.has(entry))).toEqual([]);
    for (const image of WORKER_IMAGES) expect(existsSync(path.join(repoRoot, image.entry)), image.entry).toBe(true);
    expect(new Set(WORKER_IMAGES.map((image) => image.name)).size).toBe(WORKER_IMAGES.length);
  });

  it('commits exactly the Dockerfiles workers/images.ts generates, one per worker at workers/<name>/Dockerfile', () => {
    for (const file of generatedFiles()) {
      expect(existsSync(path.join(repoRoot, file.path)), `${file.path} is missing: run npm run images:write`).toBe(true);
      expect(read(file.path), `${file.path} is stale: run npm run images:write`).toBe(file.content);
    }
    expect(WORKER_IMAGES.map(dockerfilePath)).toEqual(WORKER_IMAGES.map((image) => `workers/${image.name}/Dockerfile`));
  });

  it('reads run-time imports only: type-only imports and import() types are not followed', () => {
    const source = [
      "import type { A } from './types.ts';",
      "import { type B } from './only-types.ts';",
      "import { c, type D } from './mixed.ts';",
      "export { e } from './reexport.ts';",
      "export type { F } from './type-reexport.ts';",
      "let g: import('./import-type.ts').G;",
      "const h = await import('@scope/pkg/sub');",
    ].join('\n');
    expect(runtimeImports(source, 'x.ts')).toEqual(['./mixed.ts', './reexport.ts', '@scope/pkg/sub']);
  });

  for (const image of WORKER_IMAGES) {
    describe(image.name, () => {
      const steps = instructions(read(dockerfilePath(image)));
      const graph = importGraph(image.entry);

      it('copies every file its entry loads, and the .dockerignore lets each through', () => {
        const copies = steps.filter((s) => s.keyword === 'COPY').map((s) => s.args.split(' ')[0]!);
        const allowed = read(dockerignorePath(image))
          .split('\n')
          .filter((line) => line.startsWith('!'))
          .map((line) => line.slice(1));
        const matches = (pattern: string, file: string) =>
          path.posix.dirname(pattern) === path.posix.dirname(file) && path.posix.basename(pattern) === '*.ts' && file.endsWith('.ts');
        for (const file of graph.files) {
          expect(
            copies.some((source) => matches(source, file)),
            `${file} is loaded by ${image.entry} but not copied`,
          ).toBe(true);
          expect(
            allowed.some((pattern) => matches(pattern, file)),
            `${file} is excluded from the build context`,
          ).toBe(true);
          expect(file, 'a test file would be loaded at run time').not.toMatch(/\.test\.ts$/);
        }
        expect(copies).toEqual(expect.arrayContaining(['package.json', ...copySources(image)]));
        expect(read(dockerignorePath(image))).toMatch(/^\*\*\/\.env$/m);
      });

      it('imports only production dependencies (npm ci --omit=dev), tsx included', () => {
        const { dependencies } = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
        expect(graph.packages.length).toBeGreaterThan(0);
        for (const name of [...graph.packages, 'tsx']) expect(Object.keys(dependencies), `${name} must be a dependency`).toContain(name);
        expect(steps.find((s) => s.keyword === 'RUN')?.args).toMatch(/npm ci --omit=dev --ignore-scripts/);
      });

      it('runs its entry as the non-root node user, exposes its port, stops on SIGTERM', () => {
        const user = steps.filter((s) => s.keyword === 'USER').at(-1);
        expect(user?.args).toBe('node');
        expect(steps.findIndex((s) => s.keyword === 'USER')).toBeLessThan(steps.findIndex((s) => s.keyword === 'CMD'));
        expect(steps.find((s) => s.keyword === 'EXPOSE')?.args).toBe(String(image.port.default));
        expect(steps.find((s) => s.keyword === 'STOPSIGNAL')?.args).toBe('SIGTERM');
        expect(JSON.parse(steps.find((s) => s.keyword === 'CMD')!.args)).toEqual(['node', '--import', 'tsx', image.entry]);
      });

      it('bakes in no secret: no secret variable in ENV or ARG, no env file copied', () => {
        const baked = steps.filter((s) => s.keyword === 'ENV' || s.keyword === 'ARG').map((s) => s.args);
        for (const name of SECRET_VARIABLES) for (const line of baked) expect(line, name).not.toMatch(new RegExp(`\\b${name}\\b`));
        for (const copy of steps.filter((s) => s.keyword === 'COPY')) expect(copy.args).not.toMatch(/\.env|secret/i);
      });

      it('reports healthy while the worker serves /healthz on its port, unhealthy once it is gone', async () => {
        const server = await serveMetrics(new Registry(), { port: 0 });
        try {
          expect(await runHealthcheck(image, server.port)).toBe(0);
        } finally {
          await server.close();
        }
        expect(await runHealthcheck(image, server.port)).toBe(1);
      });
    });
  }
});

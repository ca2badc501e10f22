// Where each benchmark leaves its figures (bench/results/<name>.json, committed), for
// scripts/bench-figures.ts to rewrite the README's figures table from: the table is never typed by hand.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';

export const RESULTS_DIR = join(new URL('../', import.meta.url).pathname, 'bench/results');

/** Writes `figures` with when and where they were measured; `file` defaults to bench/results/<name>.json. */
export function recordFigures(name: string, figures: Record<string, unknown>, file = join(RESULTS_DIR, `${name}.json`)): string {
  mkdirSync(dirname(file), { recursive: true });
  const measuredOn = { measured_at: new Date().toISOString(), cores: cpus().length, load_at_end: Number(loadavg()[0]!.toFixed(2)) };
  writeFileSync(file, `${JSON.stringify({ ...measuredOn, ...figures }, null, 2)}\n`);
  return file;
}

// Benchmark (not a test): how long `npm run dev` takes to print "ready" on a fresh state folder and a fresh
// database, and again on a second start that finds its data. Prints the figures; changes nothing it did not
// create (its own state folder, database name and ports; all removed at the end).
//   node --import tsx tests/local-stack/measure-start.ts [--private all] [--apps none]
import { rmSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { cleanEnvironment, LauncherRun, makeStateRoot, rememberWebPorts, writeEnvFile } from './launcher-run.ts';

const extraArgs = process.argv.slice(2);
const dir = makeStateRoot('mdao-measure-start-');
const stateDir = path.join(dir, 'state');
const databaseName = `mdao_measure_${Date.now().toString(36)}`;
const envFile = writeEnvFile(dir, {
  DB_NAME: databaseName,
  API_PORT: await ephemeralPort(),
  METRICS_PORT: await ephemeralPort(),
  NATS_EXPORTER_PORT: await ephemeralPort(),
});
const env = cleanEnvironment({ ENV_FILE: envFile });
rememberWebPorts(stateDir, { city: await ephemeralPort(), admin: await ephemeralPort() });

async function timedStart(label: string): Promise<void> {
  const run = new LauncherRun(['--state-dir', stateDir, ...extraArgs], env);
  try {
    const wall = await run.waitUntilReady(180_000);
    const inside = /^dev: ready in ([\d.]+)s/m.exec(run.output)?.[1];
    const sources = [...run.output.matchAll(/^dev: ✓ (postgres|nats|redis) +(\S+(?: port)?):/gm)].map((m) => `${m[1]}=${m[2]}`);
    if (process.env.VERBOSE)
      console.log(
        run.output
          .split('\n')
          .filter((line) => line.startsWith('dev: '))
          .join('\n'),
      );
    console.log(`${label}: ready ${wall.toFixed(1)}s after \`npm run dev\` (launcher's own count ${inside}s; ${sources.join(', ')})`);
  } finally {
    const stopStarted = performance.now();
    const code = await run.stop('SIGINT');
    console.log(`${label}: Ctrl-C stopped everything in ${((performance.now() - stopStarted) / 1000).toFixed(1)}s (exit ${code})`);
  }
}

try {
  await timedStart('first start (fresh state folder and database)');
  await timedStart('second start (same state folder and database)');
} finally {
  await new LauncherRun(['--stop', '--state-dir', stateDir], env).exited;
  const admin = postgres('postgresql://postgres@127.0.0.1:5432/postgres', { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${databaseName}" with (force)`).catch(() => {});
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}

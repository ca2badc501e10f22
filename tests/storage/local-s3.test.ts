// The launcher's local S3 server (scripts/storage/local-s3.ts, started by `npm run dev`): it provisions the
// local bucket on start and keeps its data under the state folder, so a file survives a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createObjectStore } from '../../functions/_shared/object-store.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';

const stateDir = mkdtempSync(path.join(tmpdir(), 'mdao-stack-'));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

async function start(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/storage/local-s3.ts'], {
    env: { ...process.env, LOCAL_STACK_DIR: stateDir, LOCAL_S3_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  await waitUntil('the local S3 server', () => output.includes('bucket microdao-local'), { timeoutMs: 60_000 });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

it('provisions the local bucket and keeps files across a restart', async () => {
  const port = await ephemeralPort();
  const settings = {
    STORAGE_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    STORAGE_S3_REGION: 'us-east-1',
    STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
    STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
    STORAGE_BUCKET: 'microdao-local',
  };
  const store = createObjectStore(settings);
  const first = await start(port);
  const url = await store.presignPut('team/kept-across-restarts', { contentType: 'text/plain', contentLength: 4, expiresIn: 60 });
  const put = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'kept' });
  expect(put.status).toBe(200);
  await stop(first);

  const second = await start(port);
  expect(await store.head('team/kept-across-restarts')).toEqual({ size: 4 });
  await stop(second);
}, 150_000);

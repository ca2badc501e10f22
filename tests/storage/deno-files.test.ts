// The upload flow under Deno, as deployed (the S3 SDK, node:crypto's streaming hash and the web streams of the
// confirm check all run in the Edge runtime's flavour): ask → PUT → confirm → download over real HTTP.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedIds } from '../harness/database.ts';
import { startDenoGateway, type DenoGateway } from '../harness/deno-gateway.ts';
import { startTestS3, type TestS3 } from '../harness/s3.ts';
import { startTestGateway, testEnvironment, type TestGateway } from '../api/helpers.ts';

const STARTUP_TIMEOUT_MS = 120_000; // the first run may download the npm packages into Deno's cache
let s3: TestS3;
let database: TestGateway; // only for its seeded database
let deno: DenoGateway;

beforeAll(async () => {
  s3 = await startTestS3();
  database = await startTestGateway('storage_deno');
  deno = await startDenoGateway({
    env: testEnvironment(database.database, { ...s3.env, LOG_LEVEL: 'warn' }),
    timeoutMs: STARTUP_TIMEOUT_MS,
  });
}, STARTUP_TIMEOUT_MS + 30_000);
afterAll(async () => {
  await deno?.stop();
  await database?.close();
  await s3?.stop();
});

async function api<T>(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${deno.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

it('uploads, confirms and downloads a file through the Deno gateway', async () => {
  const login = await api<{ access_token: string }>('POST', '/api/auth/dev-login', undefined, { email: 'alice@demo.local' });
  const token = login.body.access_token;
  const text = Buffer.from('minutes of the roof meeting\n');
  const asked = await api<{ file: { id: string }; upload: { url: string; headers: Record<string, string> } }>(
    'POST',
    '/api/files/uploads',
    token,
    {
      team_id: seedIds.demoTeam,
      name: 'minutes.txt',
      content_type: 'text/plain',
      size_bytes: text.length,
      sha256: createHash('sha256').update(text).digest('hex'),
    },
  );
  expect(asked.status).toBe(201);
  const put = await fetch(asked.body.upload.url, { method: 'PUT', headers: asked.body.upload.headers, body: text.toString() });
  expect(put.status).toBe(200);
  await put.arrayBuffer();
  const confirmed = await api<{ status: string; content_type: string }>('POST', `/api/files/${asked.body.file.id}/confirm`, token);
  expect(confirmed).toMatchObject({ status: 200, body: { status: 'stored', content_type: 'text/plain' } });
  const link = await api<{ url: string }>('GET', `/api/files/${asked.body.file.id}/download`, token);
  const download = await fetch(link.body.url);
  expect(download.headers.get('content-type')).toBe('application/octet-stream');
  expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
  expect(await download.text()).toBe(text.toString());
});

// The storage sweeper against a real s3rver and database: it finds planted orphans in both directions (an
// object without a row, an object whose file was deleted while its delete failed, a stored row whose object
// vanished), deletes only the orphan objects when told to, and never touches a live file.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createObjectStore, type ObjectStore } from '../../functions/_shared/object-store.ts';
import { sweepStorage } from '../../scripts/storage/sweeper.ts';
import { seedIds } from '../harness/database.ts';
import { startTestS3, type TestS3 } from '../harness/s3.ts';
import { call, devLogin, startTestGateway, type TestGateway } from '../api/helpers.ts';

let s3: TestS3;
let gateway: TestGateway;
let store: ObjectStore;
let token: string;

beforeAll(async () => {
  s3 = await startTestS3();
  gateway = await startTestGateway('storage_sweeper', { env: s3.env });
  store = createObjectStore(s3.env);
  token = (await devLogin(gateway.app, 'alice@demo.local')).token;
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await s3?.stop();
});

/** A stored file through the API; returns its id and object key. */
async function storedFile(text: string): Promise<{ id: string; key: string }> {
  const bytes = Buffer.from(text);
  const asked = await call<{ file: { id: string }; upload: { url: string; headers: Record<string, string> } }>(
    gateway.app,
    'POST',
    '/api/files/uploads',
    {
      token,
      body: {
        team_id: seedIds.demoTeam,
        name: 'notes.txt',
        content_type: 'text/plain',
        size_bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
    },
  );
  expect(asked.status).toBe(201);
  await (await fetch(asked.body.upload.url, { method: 'PUT', headers: asked.body.upload.headers, body: text })).arrayBuffer();
  expect((await call(gateway.app, 'POST', `/api/files/${asked.body.file.id}/confirm`, { token })).status).toBe(200);
  const [row] = await gateway.database.sql<{ object_key: string }[]>`select object_key from public.files where id = ${asked.body.file.id}`;
  return { id: asked.body.file.id, key: row!.object_key };
}

async function plant(key: string, text: string): Promise<void> {
  const url = await store.presignPut(key, { contentType: 'text/plain', contentLength: text.length, expiresIn: 60 });
  await (await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: text })).arrayBuffer();
}

it('reports orphans both ways, deletes only orphan objects with --apply, and keeps live files', async () => {
  const live = await storedFile('live file');
  const deletedButKept = await storedFile('deleted, delete failed');
  await gateway.database.sql`update public.files set deleted_at = now() where id = ${deletedButKept.id}`;
  const vanished = await storedFile('object vanished');
  await store.delete(vanished.key);
  const stray = `${seedIds.demoTeam}/planted-orphan-without-row`;
  await plant(stray, 'nobody owns me');

  const dry = await sweepStorage(gateway.sql, store, { apply: false, graceMs: 0 });
  expect(dry.orphanObjects.sort()).toEqual([deletedButKept.key, stray].sort());
  expect(dry.danglingFiles).toEqual([vanished.id]);
  expect(dry.deleted).toBe(0);
  expect(await store.head(stray)).not.toBeNull();

  // a grace period spares young objects (an upload may be in flight)
  const young = await sweepStorage(gateway.sql, store, { apply: true, graceMs: 60 * 60_000 });
  expect(young.orphanObjects).toEqual([]);

  const applied = await sweepStorage(gateway.sql, store, { apply: true, graceMs: 0 });
  expect(applied.deleted).toBe(2);
  expect(await store.head(stray)).toBeNull();
  expect(await store.head(deletedButKept.key)).toBeNull();
  expect(await store.head(live.key)).not.toBeNull();
  const again = await sweepStorage(gateway.sql, store, { apply: true, graceMs: 0 });
  expect(again.orphanObjects).toEqual([]);
});

it('deleting a message deletes the files only it carried (file.deleted in the same transaction); the sweeper removes their objects', async () => {
  const file = await storedFile('attached to a doomed message');
  const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
    token,
    body: { channel_id: seedIds.generalChannel, body: 'with a file' },
  });
  expect(
    (await call(gateway.app, 'POST', `/api/files/${file.id}/attachments`, { token, body: { message_id: posted.body.id } })).status,
  ).toBe(201);
  expect((await call(gateway.app, 'DELETE', `/api/messages/${posted.body.id}`, { token })).status).toBe(200);

  expect((await call(gateway.app, 'GET', `/api/files/${file.id}`, { token })).status).toBe(404);
  const [event] = await gateway.database.sql<{ n: number }[]>`
    select count(*)::int as n from public.outbox_events where event_type = 'file.deleted' and aggregate_id = ${file.id}`;
  expect(event!.n).toBe(1);
  const swept = await sweepStorage(gateway.sql, store, { apply: true, graceMs: 0 });
  expect(swept.orphanObjects).toEqual([file.key]);
  expect(await store.head(file.key)).toBeNull();
});

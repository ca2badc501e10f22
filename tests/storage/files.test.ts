// The upload flow end to end against a real local S3 server (s3rver): ask → PUT to the presigned URL → confirm
// → download, and every refusal with its code and nothing left behind (no object, no live row): oversize, a
// type outside the allow-list, a script renamed .png, a wrong checksum, a team over its quota. Another team's
// member gets 404 and no URL; a presigned URL expires; delete removes the object.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../functions/_shared/metrics.ts';
import { createObjectStore, type ObjectStore } from '../../functions/_shared/object-store.ts';
import { seedIds } from '../harness/database.ts';
import { startTestS3, type TestS3 } from '../harness/s3.ts';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let s3: TestS3;
let gateway: TestGateway;
let store: ObjectStore;
let alice: Session; // owner of the demo team
let bob: Session; // member of the demo team
let mallory: Session; // in a team of her own only
const metrics = createGatewayMetrics();

const QUOTA = 150_000;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(1000, 7)]);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  s3 = await startTestS3();
  gateway = await startTestGateway('storage_files', {
    env: { ...s3.env, STORAGE_MAX_FILE_BYTES: '100000', STORAGE_TEAM_QUOTA_BYTES: String(QUOTA), STORAGE_URL_TTL_SECONDS: '60' },
    app: { metrics },
  });
  store = createObjectStore(s3.env);
  alice = await devLogin(gateway.app, 'alice@demo.local');
  bob = await devLogin(gateway.app, 'bob@demo.local');
  mallory = await devLogin(gateway.app, 'mallory@elsewhere.test');
  const team = await call(gateway.app, 'POST', '/api/teams', { token: mallory.token, body: { name: 'Elsewhere' } });
  expect(team.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await s3?.stop();
});

interface UploadAnswer {
  file: { id: string; status: string; size_bytes: number };
  upload: { url: string; headers: Record<string, string>; expires_at: string };
}

async function requestUpload(token: string, bytes: Uint8Array, overrides: Record<string, unknown> = {}) {
  return call<UploadAnswer>(gateway.app, 'POST', '/api/files/uploads', {
    token,
    body: {
      team_id: seedIds.demoTeam,
      name: 'roof.png',
      content_type: 'image/png',
      size_bytes: bytes.length,
      sha256: sha256(bytes),
      ...overrides,
    },
  });
}

async function put(upload: UploadAnswer['upload'], bytes: Uint8Array): Promise<number> {
  const response = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes as unknown as BodyInit });
  await response.arrayBuffer();
  return response.status;
}

/** The object key of a file, read as the superuser (the API never shows it). */
async function objectKeyOf(fileId: string): Promise<string> {
  const [row] = await gateway.database.sql<{ object_key: string }[]>`select object_key from public.files where id = ${fileId}`;
  return row!.object_key;
}

async function upload(token: string, bytes: Uint8Array, overrides: Record<string, unknown> = {}) {
  const asked = await requestUpload(token, bytes, overrides);
  expect(asked.status, JSON.stringify(asked.body)).toBe(201);
  expect(await put(asked.body.upload, bytes)).toBe(200);
  const confirmed = await call<{ status: string; content_type: string; error?: unknown }>(
    gateway.app,
    'POST',
    `/api/files/${asked.body.file.id}/confirm`,
    { token },
  );
  return { id: asked.body.file.id, confirmed };
}

describe('uploading a file', () => {
  it('asks, PUTs to the presigned URL, confirms, and the teammate downloads it as an attachment', async () => {
    const { id, confirmed } = await upload(alice.token, PNG);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'stored', content_type: 'image/png' });
    expect(confirmed.body).not.toHaveProperty('object_key');

    const link = await call<{ url: string; inline_preview: boolean }>(gateway.app, 'GET', `/api/files/${id}/download`, {
      token: bob.token,
    });
    expect(link.status).toBe(200);
    expect(link.body.inline_preview).toBe(true);
    const download = await fetch(link.body.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="roof.png"/);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);

    // confirming twice is harmless
    const again = await call<{ status: string }>(gateway.app, 'POST', `/api/files/${id}/confirm`, { token: alice.token });
    expect(again.body.status).toBe('stored');
    const [event] = await gateway.database.sql<{ n: number }[]>`
      select count(*)::int as n from public.outbox_events where event_type = 'file.stored' and aggregate_id = ${id}`;
    expect(event!.n).toBe(1);
  });

  it("is invisible to another team's member: 404 on metadata and no URL", async () => {
    const { id } = await upload(alice.token, PNG, { name: 'private.png' });
    for (const path of [`/api/files/${id}`, `/api/files/${id}/download`]) {
      const answer = await call(gateway.app, 'GET', path, { token: mallory.token });
      expect(answer.status).toBe(404);
      expect(expectErrorShape(answer).code).toBe('file_not_found');
    }
    const foreign = await requestUpload(mallory.token, PNG);
    expect(foreign.status).toBe(404);
    expect(expectErrorShape(foreign).code).toBe('team_not_found');
  });

  it('refuses oversize files and types outside the allow-list before handing out a URL', async () => {
    const big = await requestUpload(alice.token, PNG, { size_bytes: 100_001 });
    expect(big.status).toBe(400);
    expect(expectErrorShape(big)).toMatchObject({ code: 'file_too_large', message: expect.stringContaining('100000') });
    const html = await requestUpload(alice.token, PNG, { name: 'x.html', content_type: 'text/html' });
    expect(html.status).toBe(400);
    expect(expectErrorShape(html).code).toBe('type_not_allowed');
  });

  it.each([
    ['a script renamed .png', Buffer.from('#!/bin/sh\nrm -rf /\n'), {}, 'type_not_allowed'],
    ['bytes that do not match the declared checksum', PNG, { sha256: 'f'.repeat(64) }, 'checksum_mismatch'],
  ])('rejects %s and keeps nothing', async (_label, bytes, overrides, code) => {
    const asked = await requestUpload(alice.token, bytes, overrides);
    expect(asked.status).toBe(201);
    expect(await put(asked.body.upload, bytes)).toBe(200);
    const key = await objectKeyOf(asked.body.file.id);
    const confirmed = await call(gateway.app, 'POST', `/api/files/${asked.body.file.id}/confirm`, { token: alice.token });
    expect(confirmed.status).toBe(400);
    expect(expectErrorShape(confirmed).code).toBe(code);
    expect(await store.head(key)).toBeNull();
    const [row] = await gateway.database.sql<{ status: string; reject_reason: string }[]>`
      select status, reject_reason from public.files where id = ${asked.body.file.id}`;
    expect(row).toEqual({ status: 'rejected', reject_reason: code });
    const link = await call(gateway.app, 'GET', `/api/files/${asked.body.file.id}/download`, { token: alice.token });
    expect(expectErrorShape(link).code).toBe('file_not_stored');
  });

  it('rejects an object whose size differs from the declared size', async () => {
    const asked = await requestUpload(alice.token, PNG);
    const key = await objectKeyOf(asked.body.file.id);
    // bypass the presigned URL (s3rver would accept any length on it): the gateway's own check must catch it
    const other = Buffer.concat([PNG, Buffer.from('x')]);
    await fetch(await store.presignPut(key, { contentType: 'image/png', contentLength: other.length, expiresIn: 60 }), {
      method: 'PUT',
      headers: { 'Content-Type': 'image/png' },
      body: other,
    });
    const confirmed = await call(gateway.app, 'POST', `/api/files/${asked.body.file.id}/confirm`, { token: alice.token });
    expect(expectErrorShape(confirmed).code).toBe('size_mismatch');
    expect(await store.head(key)).toBeNull();
  });

  it('says upload_missing while nothing is uploaded, and only the uploader may confirm', async () => {
    const asked = await requestUpload(alice.token, PNG);
    const early = await call(gateway.app, 'POST', `/api/files/${asked.body.file.id}/confirm`, { token: alice.token });
    expect(early.status).toBe(409);
    expect(expectErrorShape(early).code).toBe('upload_missing');
    const byBob = await call(gateway.app, 'POST', `/api/files/${asked.body.file.id}/confirm`, { token: bob.token });
    expect(byBob.status).toBe(404);
  });
});

describe('a presigned URL', () => {
  it('expires', async () => {
    const key = `${seedIds.demoTeam}/expiry-probe-0000000000`;
    await store.ensureBucket();
    const url = await store.presignPut(key, { contentType: 'text/plain', contentLength: 5, expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const response = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
    await response.arrayBuffer();
    expect(response.status).toBe(403);
    expect(await store.head(key)).toBeNull();
  });
});

describe('a stored file', () => {
  it('is attached to its author’s message, listed with it, and deleted with its object', async () => {
    const { id } = await upload(alice.token, PNG, { name: 'attach.png' });
    const posted = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: alice.token,
      body: { channel_id: seedIds.generalChannel, body: 'the roof' },
    });
    const ok = await call(gateway.app, 'POST', `/api/files/${id}/attachments`, {
      token: alice.token,
      body: { message_id: posted.body.id },
    });
    expect(ok.status).toBe(201);
    // a retry answers the same and announces nothing new: one file.attached, naming the message's channel
    expect(
      (await call(gateway.app, 'POST', `/api/files/${id}/attachments`, { token: alice.token, body: { message_id: posted.body.id } }))
        .status,
    ).toBe(201);
    const attached = await gateway.database.sql<{ payload: Record<string, string> }[]>`
      select payload from public.outbox_events where event_type = 'file.attached' and aggregate_id = ${id}`;
    expect(attached.map((e) => e.payload)).toEqual([
      { file_id: id, team_id: seedIds.demoTeam, message_id: posted.body.id, channel_id: seedIds.generalChannel },
    ]);
    const byBob = await call(gateway.app, 'POST', `/api/files/${id}/attachments`, {
      token: bob.token,
      body: { message_id: posted.body.id },
    });
    expect(byBob.status).toBe(409);
    const listed = await call<{ items: { id: string }[] }>(gateway.app, 'GET', `/api/files?message_id=${posted.body.id}`, {
      token: bob.token,
    });
    expect(listed.body.items.map((f) => f.id)).toEqual([id]);

    const key = await objectKeyOf(id);
    expect(await store.head(key)).not.toBeNull();
    expect((await call(gateway.app, 'DELETE', `/api/files/${id}`, { token: bob.token })).status).toBe(404);
    const deleted = await call(gateway.app, 'DELETE', `/api/files/${id}`, { token: alice.token });
    expect(deleted.status).toBe(200);
    expect(await store.head(key)).toBeNull();
    expect((await call(gateway.app, 'GET', `/api/files/${id}`, { token: alice.token })).status).toBe(404);
    const after = await call<{ items: unknown[] }>(gateway.app, 'GET', `/api/files?message_id=${posted.body.id}`, { token: bob.token });
    expect(after.body.items).toEqual([]);
    const [event] = await gateway.database.sql<{ n: number }[]>`
      select count(*)::int as n from public.outbox_events where event_type = 'file.deleted' and aggregate_id = ${id}`;
    expect(event!.n).toBe(1);
  });
});

// last: it fills the demo team's quota
/** Every storage series as `name{labels}` → value, to compare before and after. */
async function storageSeries(): Promise<Record<string, number>> {
  const series: Record<string, number> = {};
  for (const metric of [metrics.storageUploads, metrics.storageRejections, metrics.storageStoredBytes]) {
    const { name, values } = await metric.get();
    for (const { labels, value } of values) series[`${name}${JSON.stringify(labels)}`] = value;
  }
  return series;
}

describe('the storage metrics', () => {
  it('count requests, confirmations, refusals by step and reason, and the bytes stored', async () => {
    const before = await storageSeries();
    await upload(alice.token, PNG, { name: 'counted.png' });
    expect((await requestUpload(alice.token, PNG, { content_type: 'application/zip' })).status).toBe(400);
    const wrongSum = await requestUpload(alice.token, PNG, { sha256: sha256(Buffer.from('something else')) });
    expect(await put(wrongSum.body.upload, PNG)).toBe(200);
    const refused = await call(gateway.app, 'POST', `/api/files/${wrongSum.body.file.id}/confirm`, { token: alice.token });
    expect(expectErrorShape(refused).code).toBe('checksum_mismatch');

    const after = await storageSeries();
    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    expect(delta('microdao_storage_uploads_total{"step":"requested"}')).toBe(2);
    expect(delta('microdao_storage_uploads_total{"step":"confirmed"}')).toBe(1);
    expect(delta('microdao_storage_stored_bytes_total{}')).toBe(PNG.length);
    expect(delta('microdao_storage_upload_rejections_total{"step":"request","reason":"type_not_allowed"}')).toBe(1);
    expect(delta('microdao_storage_upload_rejections_total{"step":"confirm","reason":"checksum_mismatch"}')).toBe(1);
  });
});

describe('the team quota', () => {
  it("refuses a file that does not fit the team's quota (pending uploads count) with storage_quota_exceeded", async () => {
    // a pending upload holds its bytes until it expires
    expect((await requestUpload(alice.token, PNG, { size_bytes: 100_000, name: 'pending.png' })).status).toBe(201);
    const [used] = await gateway.database.sql<{ used: number }[]>`
      select coalesce(sum(size_bytes), 0)::int as used from public.files
      where team_id = ${seedIds.demoTeam} and deleted_at is null and (status = 'stored' or (status = 'pending' and upload_expires_at > now()))`;
    const free = QUOTA - used!.used;
    const tooMuch = await requestUpload(alice.token, PNG, { size_bytes: free + 1, name: 'big.png' });
    expect(tooMuch.status).toBe(409);
    expect(expectErrorShape(tooMuch)).toMatchObject({ code: 'storage_quota_exceeded', message: expect.stringContaining(String(QUOTA)) });
    // two concurrent requests for the last bytes: exactly one fits (the team lock serialises the check)
    const both = await Promise.all([0, 1].map(() => requestUpload(bob.token, PNG, { size_bytes: free, name: 'last.png' })));
    expect(both.map((a) => a.status).sort()).toEqual([201, 409]);
  });
});

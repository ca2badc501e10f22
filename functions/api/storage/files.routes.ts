// Files: ask for an upload (a presigned PUT to an unguessable key the gateway picks), confirm it (the gateway
// checks size, SHA-256 and the real type, then stores or rejects and deletes the object), read a file's
// metadata, get a short-lived download URL (always an attachment, so HTML or SVG never runs on our origin),
// delete, and attach stored files to one's messages. Rows decide access (RLS); objects are reached only through
// URLs signed here.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError, badRequest, conflict, notFound } from '../../_shared/errors.ts';
import type { Config } from '../../_shared/config.ts';
import { createObjectStore, storageConfigured, type ObjectStore } from '../../_shared/object-store.ts';
import { assertCatalogPayload, enqueueEvent } from '../../_shared/outbox.ts';
import { inRequestTransaction, type PrincipalEnv } from '../core/context.ts';
import { requireTeamCapability } from '../core/pep.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, Name, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import {
  findFile,
  insertAttachment,
  insertPendingFile,
  listMessageFiles,
  lockedTeamUsage,
  markDeleted,
  markRejected,
  markStored,
  messageVisible,
  type FileRow,
} from './files.queries.ts';
import { ALLOWED_TYPES, isAllowedType, isImageType } from './sniff.ts';
import { verifyObject } from './verify-object.ts';

const File = z
  .object({
    id: Uuid,
    team_id: Uuid,
    owner_id: Uuid,
    name: z.string(),
    declared_type: z.string(),
    content_type: z.string().nullable().openapi({ description: 'What the bytes are (sniffed); null until stored' }),
    size_bytes: z.number().int(),
    sha256: z.string().openapi({ description: 'Hex SHA-256 the uploader declared (and the gateway verified once stored)' }),
    status: z.enum(['pending', 'stored', 'rejected']),
    reject_reason: z.string().nullable(),
    created_at: Timestamp,
    upload_expires_at: Timestamp,
    stored_at: Timestamp.nullable(),
    deleted_at: Timestamp.nullable(),
  })
  .openapi('File');

const Upload = z
  .object({
    file: File,
    upload: z.object({
      method: z.literal('PUT'),
      url: z.string().openapi({ description: 'Presigned; send the bytes with exactly these headers before expires_at' }),
      headers: z.record(z.string(), z.string()),
      expires_at: Timestamp,
    }),
  })
  .openapi('FileUpload');

const DownloadUrl = z
  .object({ url: z.string(), expires_at: Timestamp, inline_preview: z.boolean().openapi({ description: 'An image the web app may show' }) })
  .openapi('FileDownload');

const RequestUploadBody = z
  .strictObject({
    team_id: Uuid,
    name: Name(255).refine((name) => !/[/\\]/.test(name), { message: 'must be a file name without slashes' }),
    content_type: z
      .string()
      .max(127)
      .openapi({ enum: [...ALLOWED_TYPES] }),
    size_bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be the SHA-256 of the file as 64 lowercase hex digits' }),
  })
  .openapi('RequestUpload', {
    example: {
      team_id: '00000000-0000-4000-8000-0000000d3a00',
      name: 'roof.png',
      content_type: 'image/png',
      size_bytes: 48213,
      sha256: 'a'.repeat(64),
    },
  });
const AttachBody = z
  .strictObject({ message_id: Uuid })
  .openapi('AttachFile', { example: { message_id: '00000000-0000-4000-8000-00000000e550' } });
const FilePath = z.strictObject({ fileId: Uuid.openapi({ param: { name: 'fileId', in: 'path' } }) });
const MessageQuery = z.strictObject({ message_id: Uuid });
const FileList = z.object({ items: z.array(File) }).openapi('FileList');

const requestUpload = securedRoute('storage.write', {
  method: 'post',
  path: '/uploads',
  tags: ['files'],
  summary: 'Ask for a presigned upload of one file to a team (then PUT the bytes and confirm)',
  request: { body: jsonBody(RequestUploadBody, 'The file to upload') },
  responses: { 201: jsonResponse(Upload, 'The pending file and where to PUT it'), ...errorResponses(404, 409, 503) },
});
const confirmUpload = securedRoute('storage.write', {
  method: 'post',
  path: '/{fileId}/confirm',
  tags: ['files'],
  summary: 'Confirm an upload: the gateway verifies size, SHA-256 and type, then stores or rejects the file',
  request: { params: FilePath },
  responses: { 200: jsonResponse(File, 'The stored file'), ...errorResponses(400, 404, 409, 503) },
});
const getFile = securedRoute('storage.read', {
  method: 'get',
  path: '/{fileId}',
  tags: ['files'],
  summary: "A file's metadata",
  request: { params: FilePath },
  responses: { 200: jsonResponse(File, 'The file'), ...errorResponses(400, 404) },
});
const downloadFile = securedRoute('storage.read', {
  method: 'get',
  path: '/{fileId}/download',
  tags: ['files'],
  summary: 'A short-lived presigned download URL (served as an attachment)',
  request: { params: FilePath },
  responses: { 200: jsonResponse(DownloadUrl, 'The URL'), ...errorResponses(400, 404, 409, 503) },
});
const deleteFile = securedRoute('storage.write', {
  method: 'delete',
  path: '/{fileId}',
  tags: ['files'],
  summary: 'Delete my file (its object is removed)',
  request: { params: FilePath },
  responses: { 200: jsonResponse(File, 'The deleted file'), ...errorResponses(400, 404, 503) },
});
const attachFile = securedRoute('message.write', {
  method: 'post',
  path: '/{fileId}/attachments',
  tags: ['files'],
  summary: 'Attach my stored file to my message',
  request: { params: FilePath, body: jsonBody(AttachBody, 'The message') },
  responses: { 201: jsonResponse(File, 'The attached file'), ...errorResponses(404, 409) },
});
const listAttachments = securedRoute('message.read', {
  method: 'get',
  path: '/',
  tags: ['files'],
  summary: 'The stored files attached to a message',
  request: { query: MessageQuery },
  responses: { 200: jsonResponse(FileList, 'The files'), ...errorResponses(400, 404) },
});

const fileNotFound = () => notFound('file_not_found', 'No file with this id is visible to you.');
const storageUnavailable = () =>
  new ApiError(503, 'storage_unavailable', 'File storage is not configured or not reachable right now; try again later.');

const stores = new WeakMap<Config, ObjectStore>();
/** The configuration's object store, built once per gateway (the config object lives as long as the gateway). */
function objectStoreOf(c: Context<PrincipalEnv>): ObjectStore {
  const config = c.var.deps.config;
  if (!storageConfigured(config)) throw storageUnavailable();
  let store = stores.get(config);
  if (!store) stores.set(config, (store = createObjectStore(config)));
  return store;
}

/** An S3 call that fails answers 503, never 500: the request can be retried. */
async function s3<T>(c: Context<PrincipalEnv>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    c.var.logger.warn('storage call failed', { error: error instanceof Error ? error.message : String(error) });
    throw storageUnavailable();
  }
}

/** 32 random bytes, base64url: the object's name within its team's prefix; never from the client. */
function newObjectKey(teamId: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const text = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return `${teamId}/${text}`;
}

const publicFile = ({ bucket: _bucket, object_key: _key, ...file }: FileRow) => file;
const fileRef = (file: FileRow) => ({
  file_id: file.id,
  team_id: file.team_id,
  owner_id: file.owner_id,
  bucket: file.bucket,
  object_key: file.object_key,
});

/** Counts a refused upload (metrics are optional: a gateway without /metrics has none). */
function countRejection(c: Context<PrincipalEnv>, step: 'request' | 'confirm', reason: string): void {
  c.var.deps.metrics?.storageRejections.inc({ step, reason });
}

const rejectionMessages: Record<string, string> = {
  size_mismatch: 'The uploaded file is not the size the upload declared',
  checksum_mismatch: 'The uploaded bytes do not match the declared SHA-256 (corrupted or changed in transit)',
  type_not_allowed: `The file's content is not the declared type or not an allowed type (${ALLOWED_TYPES.join(', ')})`,
  upload_expired: 'The upload URL expired before anything was uploaded',
};

export const fileRoutes = createRouter()
  .openapi(requestUpload, async (c) => {
    const body = c.req.valid('json');
    const { config } = c.var.deps;
    if (!isAllowedType(body.content_type)) {
      countRejection(c, 'request', 'type_not_allowed');
      throw badRequest('type_not_allowed', `Files of type ${body.content_type} are not accepted; allowed: ${ALLOWED_TYPES.join(', ')}.`);
    }
    if (body.size_bytes > config.STORAGE_MAX_FILE_BYTES) {
      countRejection(c, 'request', 'file_too_large');
      throw badRequest('file_too_large', `The file has ${body.size_bytes} bytes; the limit per file is ${config.STORAGE_MAX_FILE_BYTES}.`);
    }
    const store = objectStoreOf(c);
    const ttl = config.STORAGE_URL_TTL_SECONDS;
    const file = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, body.team_id);
      await requireTeamCapability(tx, body.team_id, 'storage.write');
      const used = await lockedTeamUsage(tx, body.team_id);
      if (used + body.size_bytes > config.STORAGE_TEAM_QUOTA_BYTES) {
        countRejection(c, 'request', 'storage_quota_exceeded');
        throw conflict(
          'storage_quota_exceeded',
          `The team uses ${used} of its ${config.STORAGE_TEAM_QUOTA_BYTES} bytes; this file (${body.size_bytes} bytes) does not fit. Delete files first.`,
        );
      }
      return insertPendingFile(tx, {
        teamId: body.team_id,
        bucket: store.bucket,
        objectKey: newObjectKey(body.team_id),
        name: body.name,
        declaredType: body.content_type,
        sizeBytes: body.size_bytes,
        sha256: body.sha256,
        ttlSeconds: ttl,
      });
    });
    const headers = { 'Content-Type': body.content_type };
    const url = await s3(c, () =>
      store.presignPut(file.object_key, { contentType: body.content_type, contentLength: body.size_bytes, expiresIn: ttl }),
    );
    c.var.deps.metrics?.storageUploads.inc({ step: 'requested' });
    return c.json({ file: publicFile(file), upload: { method: 'PUT' as const, url, headers, expires_at: file.upload_expires_at } }, 201);
  })
  .openapi(confirmUpload, async (c) => {
    const { fileId } = c.req.valid('param');
    const file = await inRequestTransaction(c, (tx) => findFile(tx, fileId));
    if (!file || file.deleted_at) throw fileNotFound();
    if (file.owner_id !== c.var.principal.id) throw fileNotFound();
    const store = objectStoreOf(c);
    if (file.status === 'stored') return c.json(publicFile(file), 200);
    if (file.status === 'rejected')
      throw conflict('upload_rejected', `This upload was rejected (${file.reject_reason}); upload the file again.`);

    // the object is read outside any transaction: a large file must not hold a database connection
    const verdict = await s3(c, () =>
      verifyObject(store, file.object_key, { sizeBytes: file.size_bytes, sha256: file.sha256, declaredType: file.declared_type }),
    );
    if (!verdict.ok && verdict.reason === 'object_missing' && Date.parse(file.upload_expires_at) > Date.now()) {
      throw conflict(
        'upload_missing',
        `Nothing has been uploaded yet; PUT the bytes to the upload URL before ${file.upload_expires_at}, then confirm.`,
      );
    }
    const reason = verdict.ok ? null : verdict.reason === 'object_missing' ? 'upload_expired' : verdict.reason;
    const requestId = c.var.requestId;
    let settledHere = false; // this request moved the row (a concurrent confirm may have): count it once
    const settled = await inRequestTransaction(c, async (tx) => {
      settledHere = false;
      if (verdict.ok) {
        const stored = await markStored(tx, file.id, verdict.contentType);
        if (!stored) return findFile(tx, file.id);
        settledHere = true;
        const payload = assertCatalogPayload('file.stored', {
          ...fileRef(stored),
          content_type: verdict.contentType,
          size_bytes: stored.size_bytes,
          stored_at: stored.stored_at!,
        });
        await enqueueEvent(tx, { type: 'file.stored', aggregateId: stored.id, payload, correlationId: requestId });
        return stored;
      }
      const rejected = await markRejected(tx, file.id, reason!);
      if (!rejected) return findFile(tx, file.id);
      settledHere = true;
      const payload = assertCatalogPayload('file.rejected', { ...fileRef(rejected), reason: reason! });
      await enqueueEvent(tx, { type: 'file.rejected', aggregateId: rejected.id, payload, correlationId: requestId });
      return rejected;
    });
    if (!settled) throw fileNotFound();
    if (settledHere && settled.status === 'stored') {
      c.var.deps.metrics?.storageUploads.inc({ step: 'confirmed' });
      c.var.deps.metrics?.storageStoredBytes.inc(settled.size_bytes);
    }
    if (settledHere && settled.status === 'rejected') countRejection(c, 'confirm', settled.reject_reason!);
    if (settled.status === 'rejected') {
      // the row already says rejected (committed); the object goes now — a failure here leaves it to the sweeper
      await store
        .delete(settled.object_key)
        .catch((error) => c.var.logger.warn('could not delete a rejected object', { error: String(error) }));
      const detail = verdict.ok ? '' : ` (${verdict.detail})`;
      throw badRequest(
        settled.reject_reason!,
        `${rejectionMessages[settled.reject_reason!] ?? 'The upload was rejected'}${detail}; nothing was kept.`,
      );
    }
    return c.json(publicFile(settled), 200);
  })
  .openapi(getFile, async (c) => {
    const { fileId } = c.req.valid('param');
    const file = await inRequestTransaction(c, (tx) => findFile(tx, fileId));
    if (!file || file.deleted_at) throw fileNotFound();
    return c.json(publicFile(file), 200);
  })
  .openapi(downloadFile, async (c) => {
    const { fileId } = c.req.valid('param');
    const file = await inRequestTransaction(c, (tx) => findFile(tx, fileId));
    if (!file || file.deleted_at) throw fileNotFound();
    const store = objectStoreOf(c);
    if (file.status !== 'stored') throw conflict('file_not_stored', `The file is ${file.status}; only stored files can be downloaded.`);
    const ttl = c.var.deps.config.STORAGE_URL_TTL_SECONDS;
    // images keep their type (for previews); everything else is served as opaque bytes
    const contentType = isImageType(file.content_type!) ? file.content_type! : 'application/octet-stream';
    const url = await s3(c, () => store.presignGet(file.object_key, { filename: file.name, contentType, expiresIn: ttl }));
    return c.json(
      { url, expires_at: new Date(Date.now() + ttl * 1000).toISOString(), inline_preview: isImageType(file.content_type!) },
      200,
    );
  })
  .openapi(deleteFile, async (c) => {
    const { fileId } = c.req.valid('param');
    const store = objectStoreOf(c);
    const requestId = c.var.requestId;
    const file = await inRequestTransaction(c, async (tx) => {
      const deleted = await markDeleted(tx, fileId);
      if (!deleted) throw fileNotFound();
      const payload = assertCatalogPayload('file.deleted', { ...fileRef(deleted), deleted_at: deleted.deleted_at! });
      // file.deleted is the durable record that the object must go: if the delete below fails, the event stays
      await enqueueEvent(tx, { type: 'file.deleted', aggregateId: deleted.id, payload, correlationId: requestId });
      return deleted;
    });
    await store.delete(file.object_key).catch((error) => c.var.logger.warn('could not delete an object', { error: String(error) }));
    return c.json(publicFile(file), 200);
  })
  .openapi(attachFile, async (c) => {
    const { fileId } = c.req.valid('param');
    const { message_id: messageId } = c.req.valid('json');
    const file = await inRequestTransaction(c, async (tx) => {
      const file = await findFile(tx, fileId);
      if (!file || file.deleted_at) throw fileNotFound();
      const message = await messageVisible(tx, messageId);
      if (!message) throw notFound('message_not_found', 'No message with this id is visible to you.');
      if (file.status !== 'stored') throw conflict('file_not_stored', `The file is ${file.status}; confirm the upload first.`);
      const refused = () => conflict('attachment_refused', 'Only your own stored files can go on your own live messages in the same team.');
      if (file.owner_id !== c.var.principal.id) throw refused();
      if (!(await insertAttachment(tx, { messageId, fileId, teamId: file.team_id }))) {
        // nothing inserted: already attached (a retry, answered the same) or not the caller's message
        const already = (await listMessageFiles(tx, messageId)).some((f) => f.id === fileId);
        if (!already) throw refused();
        return file;
      }
      // tells the channel's live viewers the message has a new file (the message itself was announced before)
      const payload = assertCatalogPayload('file.attached', {
        file_id: file.id,
        team_id: file.team_id,
        message_id: messageId,
        channel_id: message.channel_id,
      });
      await enqueueEvent(tx, { type: 'file.attached', aggregateId: file.id, payload, correlationId: c.var.requestId });
      return file;
    });
    return c.json(publicFile(file), 201);
  })
  .openapi(listAttachments, async (c) => {
    const { message_id: messageId } = c.req.valid('query');
    const files = await inRequestTransaction(c, async (tx) => {
      if (!(await messageVisible(tx, messageId))) throw notFound('message_not_found', 'No message with this id is visible to you.');
      return listMessageFiles(tx, messageId);
    });
    return c.json({ items: files.map(publicFile) }, 200);
  });

// Checks an uploaded object against what its upload promised: it exists, its size is the declared size, its
// SHA-256 is the declared checksum, and its first bytes are an allowed type matching the declared one. The
// local S3 server does not verify presigned signatures or checksums, and a real one cannot sniff, so these
// checks are the gateway's and run on every confirm, whatever the storage server.
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../_shared/object-store.ts';
import { SNIFF_BYTES, sniffType, type AllowedType } from './sniff.ts';

export type Verdict =
  | { ok: true; contentType: AllowedType }
  | { ok: false; reason: 'object_missing' | 'size_mismatch' | 'checksum_mismatch' | 'type_not_allowed'; detail: string };

export async function verifyObject(
  store: ObjectStore,
  key: string,
  expected: { sizeBytes: number; sha256: string; declaredType: string },
): Promise<Verdict> {
  const head = await store.head(key);
  if (!head) return { ok: false, reason: 'object_missing', detail: 'nothing was uploaded to the presigned URL' };
  if (head.size !== expected.sizeBytes) {
    return { ok: false, reason: 'size_mismatch', detail: `the object has ${head.size} bytes, the upload declared ${expected.sizeBytes}` };
  }
  const hash = createHash('sha256');
  const start = new Uint8Array(SNIFF_BYTES);
  let startLength = 0;
  let total = 0;
  for await (const chunk of await store.read(key)) {
    if (startLength < SNIFF_BYTES) {
      const take = chunk.subarray(0, SNIFF_BYTES - startLength);
      start.set(take, startLength);
      startLength += take.length;
    }
    total += chunk.length;
    // the object changed under us (a second PUT while confirming): stop reading, the size check refuses it
    if (total > expected.sizeBytes) break;
    hash.update(chunk);
  }
  if (total !== expected.sizeBytes) {
    return { ok: false, reason: 'size_mismatch', detail: `the object changed while it was checked (${total} bytes read)` };
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== expected.sha256) {
    return { ok: false, reason: 'checksum_mismatch', detail: `the object's SHA-256 is ${sha256}, the upload declared ${expected.sha256}` };
  }
  const contentType = sniffType(start.subarray(0, startLength), expected.declaredType);
  if (!contentType) {
    return { ok: false, reason: 'type_not_allowed', detail: `the bytes are not a ${expected.declaredType}` };
  }
  return { ok: true, contentType };
}

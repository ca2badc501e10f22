// Benchmark (not a test): upload and download throughput through presigned URLs (what browsers do: the gateway
// signs, the bytes go straight to the storage server) next to the storage server direct (the S3 SDK's PutObject
// and GetObject with the same credentials), on one local s3rver in the same run; plus the gateway's confirm
// check (HEAD + read + SHA-256 + magic bytes) over the same objects. The sides alternate per round, so a change
// in the machine's load affects both. Prints MB/s of each and the ratios.
//
//   npm run bench:storage -- [--size-kb 1024] [--files 40] [--concurrency 4] [--rounds 2]
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createObjectStore } from '../../functions/_shared/object-store.ts';
import { verifyObject } from '../../functions/api/storage/verify-object.ts';
import { startTestS3 } from '../../tests/harness/s3.ts';

const { values } = parseArgs({
  options: {
    'size-kb': { type: 'string', default: '1024' },
    files: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
  },
});
const size = Number(values['size-kb']) * 1024;
const files = Number(values.files);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

const s3 = await startTestS3({ bucket: 'microdao-bench' });
const store = createObjectStore(s3.env);
const client = new S3Client({
  region: 'us-east-1',
  endpoint: s3.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
// a PNG header so the confirm check's sniff accepts it, then random bytes
const body = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(size - 8)]);
const sha256 = createHash('sha256').update(body).digest('hex');

async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

const sides = {
  'presigned PUT': async (i: number) => {
    const url = await store.presignPut(`p/${i}`, { contentType: 'image/png', contentLength: size, expiresIn: 300 });
    const response = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`presigned PUT answered ${response.status}`);
  },
  'direct PutObject': async (i: number) => {
    await client.send(new PutObjectCommand({ Bucket: store.bucket, Key: `d/${i}`, Body: body, ContentType: 'image/png' }));
  },
  'presigned GET': async (i: number) => {
    const url = await store.presignGet(`p/${i}`, { filename: 'x.png', contentType: 'image/png', expiresIn: 300 });
    const response = await fetch(url);
    if ((await response.arrayBuffer()).byteLength !== size) throw new Error('short download');
  },
  'direct GetObject': async (i: number) => {
    const object = await client.send(new GetObjectCommand({ Bucket: store.bucket, Key: `d/${i}` }));
    if ((await object.Body!.transformToByteArray()).length !== size) throw new Error('short download');
  },
  'confirm check': async (i: number) => {
    const verdict = await verifyObject(store, `p/${i}`, { sizeBytes: size, sha256, declaredType: 'image/png' });
    if (!verdict.ok) throw new Error(`confirm check refused: ${verdict.reason}`);
  },
} as const;
type Side = keyof typeof sides;
const names = Object.keys(sides) as Side[];
const seconds = Object.fromEntries(names.map((side) => [side, 0])) as Record<Side, number>;

try {
  for (let round = 0; round < rounds; round += 1) {
    for (const side of names) seconds[side] += await inParallel(files, sides[side]);
  }
  const mbps = (side: Side) => (files * rounds * size) / 1024 / 1024 / seconds[side];
  console.log(`storage bench: ${files} files × ${size / 1024} KiB, concurrency ${concurrency}, ${rounds} rounds, s3rver on ${s3.endpoint}`);
  for (const side of names) console.log(`  ${side.padEnd(18)} ${mbps(side).toFixed(1).padStart(8)} MB/s`);
  console.log(`  upload   presigned / direct: ${(mbps('presigned PUT') / mbps('direct PutObject')).toFixed(2)}`);
  console.log(`  download presigned / direct: ${(mbps('presigned GET') / mbps('direct GetObject')).toFixed(2)}`);
  console.log(`  confirm check / direct GetObject: ${(mbps('confirm check') / mbps('direct GetObject')).toFixed(2)}`);
} finally {
  await s3.stop();
}

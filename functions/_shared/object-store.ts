// The one storage interface: the S3 protocol through @aws-sdk/client-s3, against Supabase Storage's S3 endpoint
// in the cloud, MinIO under docker compose, and s3rver locally and in tests. Path-style addressing works on all
// three. Presigned URLs are signed here, never by a client, and live STORAGE_URL_TTL_SECONDS.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from './config.ts';

export type StorageSettings = Pick<
  Config,
  'STORAGE_S3_ENDPOINT' | 'STORAGE_S3_REGION' | 'STORAGE_S3_ACCESS_KEY_ID' | 'STORAGE_S3_SECRET_ACCESS_KEY' | 'STORAGE_BUCKET'
>;

export interface ObjectHead {
  size: number;
}

export interface ObjectStore {
  readonly bucket: string;
  presignPut(key: string, options: { contentType: string; contentLength: number; expiresIn: number }): Promise<string>;
  presignGet(key: string, options: { filename: string; contentType: string; expiresIn: number }): Promise<string>;
  /** The object's size, or null when there is no such object. */
  head(key: string): Promise<ObjectHead | null>;
  /** The object's bytes as a stream (the caller hashes and sniffs while reading). */
  read(key: string): Promise<ReadableStream<Uint8Array>>;
  /** Deletes the object; deleting a missing object is not an error (S3 semantics). */
  delete(key: string): Promise<void>;
  /** Every object of the bucket (key, size, last modified), page by page (the sweeper). */
  list(): AsyncIterable<{ key: string; size: number; lastModified: Date }>;
  /** Creates the bucket if missing (provisioning; private: no ACL or policy is ever granted). */
  ensureBucket(): Promise<void>;
}

/** Whether this configuration turns storage on: an endpoint or the AWS default, a key pair and a bucket. */
export const storageConfigured = (settings: StorageSettings): boolean =>
  Boolean(settings.STORAGE_BUCKET && settings.STORAGE_S3_ACCESS_KEY_ID && settings.STORAGE_S3_SECRET_ACCESS_KEY);

const isMissing = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** RFC 6266 attachment with an ASCII fallback and the UTF-8 name, so no name can break out of the header. */
export function attachmentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function createObjectStore(settings: StorageSettings): ObjectStore {
  if (!storageConfigured(settings)) throw new Error('storage is not configured (STORAGE_BUCKET and the S3 key pair)');
  const bucket = settings.STORAGE_BUCKET!;
  const client = new S3Client({
    region: settings.STORAGE_S3_REGION,
    endpoint: settings.STORAGE_S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.STORAGE_S3_ACCESS_KEY_ID!, secretAccessKey: settings.STORAGE_S3_SECRET_ACCESS_KEY! },
    // the SDK's default CRC32 on every PUT is not understood by s3rver and not needed: the gateway hashes itself
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    bucket,
    presignPut: (key, { contentType, contentLength, expiresIn }) =>
      getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: contentLength }), {
        expiresIn,
        // the browser must send exactly these, so the signature covers them
        signableHeaders: new Set(['content-type', 'content-length']),
      }),
    presignGet: (key, { filename, contentType, expiresIn }) =>
      getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ResponseContentDisposition: attachmentDisposition(filename),
          ResponseContentType: contentType,
        }),
        { expiresIn },
      ),
    async head(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: head.ContentLength ?? 0 };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) throw new Error(`object ${key} has no body`);
      return object.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async *list() {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: 1000 }));
        for (const object of page.Contents ?? []) {
          if (object.Key) yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        if (!isMissing(error)) throw error;
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      }
    },
  };
}

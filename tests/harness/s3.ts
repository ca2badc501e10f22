// A real local S3 server for tests: s3rver (npm) on a free port with its data in a fresh temporary folder, and
// the variables a gateway needs to reach it. s3rver's default credentials are S3RVER/S3RVER; it does not verify
// presigned signatures' content (see functions/api/README.md, storage), so tests of what a URL allows assert
// expiry and the gateway's own checks, not signature tampering.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { createObjectStore, type StorageSettings } from '../../functions/_shared/object-store.ts';
import { browserCorsXml } from '../../scripts/storage/browser-cors.ts';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  directory: string;
  /** STORAGE_* variables for testEnvironment(..., overrides). */
  env: Record<string, string> & StorageSettings;
  stop(): Promise<void>;
}

/** corsOrigins: web origins allowed to PUT/GET from a browser (the browser tests). */
export async function startTestS3(options: { bucket?: string; directory?: string; corsOrigins?: string[] } = {}): Promise<TestS3> {
  const directory = options.directory ?? mkdtempSync(path.join(tmpdir(), 'mdao-s3-'));
  const bucket = options.bucket ?? 'microdao-test';
  const configureBuckets = options.corsOrigins ? [{ name: bucket, configs: [browserCorsXml(options.corsOrigins)] }] : [];
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets });
  const address = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  const env = {
    STORAGE_S3_ENDPOINT: endpoint,
    STORAGE_S3_REGION: 'us-east-1',
    STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
    STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
    STORAGE_BUCKET: bucket,
  };
  await createObjectStore(env).ensureBucket();
  return {
    endpoint,
    bucket,
    directory,
    env,
    async stop() {
      await server.close();
      if (!options.directory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

// The local S3 server of `npm run dev`: s3rver (npm) on 127.0.0.1:LOCAL_S3_PORT with its data under the state
// folder (.local/s3rver, git-ignored), so a second start keeps the files; it provisions the local bucket on
// start. Docker users get MinIO from docker-compose.yml instead; the cloud uses Supabase Storage.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import S3rver from 's3rver';
import { createObjectStore } from '../../functions/_shared/object-store.ts';
import { browserCorsXml } from './browser-cors.ts';
import { LOCAL_S3_PORT, localStorageSettings } from './local-settings.ts';

const root = path.resolve(import.meta.dirname, '../..');
const directory = path.join(process.env.LOCAL_STACK_DIR || path.join(root, '.local'), 's3rver');
mkdirSync(directory, { recursive: true });

const settings = localStorageSettings();
// the web apps' dev servers upload and download from the browser (WEB_ORIGINS, else .env.example's defaults)
const origins = (process.env.WEB_ORIGINS || 'http://127.0.0.1:5173,http://127.0.0.1:5174,http://localhost:5173,http://localhost:5174')
  .split(',')
  .map((origin) => origin.trim())
  .filter(Boolean);
const configureBuckets = [{ name: settings.STORAGE_BUCKET, configs: [browserCorsXml(origins)] }];
const server = new S3rver({ address: '127.0.0.1', port: LOCAL_S3_PORT, silent: true, directory, configureBuckets });
await server.run();
await createObjectStore(settings).ensureBucket();
console.log(`local S3 (s3rver) on ${settings.STORAGE_S3_ENDPOINT}, bucket ${settings.STORAGE_BUCKET}, data in ${directory}`);

const stop = () => {
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// `npm run storage:provision`: creates this environment's bucket (STORAGE_BUCKET) on its S3 endpoint if it is
// missing. Private: no ACL or bucket policy is set, so objects are reachable only through URLs the gateway
// signs. Run once per environment (Supabase: or create the bucket as private in the dashboard).
import { loadConfig } from '../../functions/_shared/config.ts';
import { createObjectStore, storageConfigured } from '../../functions/_shared/object-store.ts';

const config = loadConfig(process.env);
if (!storageConfigured(config)) {
  console.error(
    'storage:provision: set STORAGE_BUCKET, STORAGE_S3_ACCESS_KEY_ID and STORAGE_S3_SECRET_ACCESS_KEY (and STORAGE_S3_ENDPOINT)',
  );
  process.exit(2);
}
await createObjectStore(config).ensureBucket();
console.log(`storage:provision: bucket ${config.STORAGE_BUCKET} exists on ${config.STORAGE_S3_ENDPOINT ?? 'AWS S3'} (private)`);

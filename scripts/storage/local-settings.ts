// What the local stack's S3 server is: the fixed port the launcher starts s3rver on and the STORAGE_*
// variables the gateway gets when .env names no storage (s3rver's published local credentials, never a secret).
// LOCAL_S3_PORT overrides it (tests run a second instance beside a running stack)
export const LOCAL_S3_PORT = Number(process.env.LOCAL_S3_PORT || 54568);

export function localStorageSettings() {
  return {
    STORAGE_S3_ENDPOINT: `http://127.0.0.1:${LOCAL_S3_PORT}`,
    STORAGE_S3_REGION: 'us-east-1',
    STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
    STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
    STORAGE_BUCKET: 'microdao-local',
  };
}

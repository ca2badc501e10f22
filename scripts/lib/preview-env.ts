// The configuration of a preview: staging's settings (shared services, limits, origins), pointed at the preview
// branch's own database and auth. Usage: node --import tsx scripts/lib/preview-env.ts STAGING_ENV BRANCH_ENV
// (BRANCH_ENV is `supabase branches get -o env`); prints the merged env file on stdout.
import { readEnvFile } from '../../functions/_shared/env-file.ts';

const [stagingFile, branchFile] = process.argv.slice(2);
if (!stagingFile || !branchFile) {
  console.error('usage: preview-env.ts STAGING_ENV BRANCH_ENV');
  process.exit(2);
}
const staging = readEnvFile(stagingFile);
const branch = readEnvFile(branchFile);
const databaseUrl = branch.POSTGRES_URL_NON_POOLING || branch.POSTGRES_URL;
const supabaseUrl = branch.SUPABASE_URL;
if (!databaseUrl || !supabaseUrl) {
  console.error(`preview-env: ${branchFile} lacks POSTGRES_URL(_NON_POOLING) or SUPABASE_URL; is the branch up?`);
  process.exit(1);
}
const db = new URL(databaseUrl);
const merged: Record<string, string | undefined> = {
  ...staging,
  APP_ENV: 'dev',
  SUPABASE_PROJECT_REF: new URL(supabaseUrl).hostname.split('.')[0],
  SUPABASE_URL: supabaseUrl,
  SUPABASE_ANON_KEY: branch.SUPABASE_ANON_KEY,
  JWT_ISSUER: `${supabaseUrl}/auth/v1`,
  // the branch signs its own tokens: its legacy secret if it has one, else its JWKS (from SUPABASE_URL)
  JWT_SECRET: branch.SUPABASE_JWT_SECRET,
  DB_HOST: db.hostname,
  DB_PORT: db.port || '5432',
  DB_NAME: db.pathname.slice(1) || 'postgres',
  DB_USER: decodeURIComponent(db.username),
  DB_PASSWORD: decodeURIComponent(db.password),
  DB_SSLMODE: 'require',
};
for (const [key, value] of Object.entries(merged)) if (value !== undefined && value !== '') console.log(`${key}=${value}`);

// Scans built web bundles for secrets before they are served: values shaped like secrets (private keys,
// non-anon JWTs, Supabase secret keys, credentials in URLs, cloud tokens) and the actual values of the secret
// variables (config.ts SECRET_VARIABLES) found in .env, .env.example and the environment of the build.
// A bundle is public: anything found here would be published. Exit code 1 lists every finding.
//   node --import tsx scripts/lib/scan-web-bundle.ts web/dist/city web/dist/admin
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readEnvFile } from '../../functions/_shared/env-file.ts';
import { SECRET_VARIABLES } from '../../functions/_shared/config.ts';

export interface Finding {
  file: string;
  rule: string;
  /** The match, shortened so the report itself does not repeat the secret. */
  excerpt: string;
}

export interface KnownSecret {
  /** Where the value comes from, e.g. `JWT_SECRET (.env)`. */
  source: string;
  value: string;
}

// Values this short are placeholders ("changeme"), and would match unrelated text.
const MIN_SECRET_VALUE_LENGTH = 12;

interface ShapeRule {
  rule: string;
  pattern: RegExp;
  /** Returns false for a match that is public by design. */
  isSecret?: (match: string) => boolean;
}

const shapeRules: ShapeRule[] = [
  { rule: 'private key (PEM)', pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/g },
  {
    rule: 'JWT that is not a Supabase anon key',
    pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g,
    isSecret: isNonAnonJwt,
  },
  { rule: 'Supabase secret key', pattern: /sb_secret_[A-Za-z0-9_-]{16,}/g },
  {
    rule: 'credentials in a connection URL',
    // the user may be empty: redis://:password@host is how Redis spells a password without a user
    pattern: /\b(?:postgres(?:ql)?|redis|rediss|nats|tls|amqps?|mongodb(?:\+srv)?):\/\/[^\s:/@"'`]*:[^\s@/"'`]+@/g,
  },
  { rule: 'hex private key (32 bytes)', pattern: /(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{64}(?![0-9a-fA-F])/g },
  { rule: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { rule: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { rule: 'Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  { rule: 'Stripe secret key', pattern: /\b[sr]k_live_[A-Za-z0-9]{16,}/g },
  { rule: 'Vercel or npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
];

/** A Supabase anon key is a JWT with role "anon" and is meant for browsers; any other JWT is a credential. */
function isNonAnonJwt(token: string): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { role?: unknown };
    return payload.role !== 'anon';
  } catch {
    return true;
  }
}

const redact = (value: string) => `${value.slice(0, 6)}… (${value.length} characters)`;

/** Secret values from env files (those that exist) and from an environment, by config.ts's list of secrets. */
export function knownSecretValues(envFiles: string[], environment: Record<string, string | undefined> = {}): KnownSecret[] {
  const secrets: KnownSecret[] = [];
  const names = new Set<string>(SECRET_VARIABLES);
  const add = (name: string, value: string | undefined, origin: string) => {
    if (names.has(name) && value && value.length >= MIN_SECRET_VALUE_LENGTH) secrets.push({ source: `${name} (${origin})`, value });
  };
  for (const file of envFiles) {
    if (!existsSync(file)) continue;
    for (const [name, value] of Object.entries(readEnvFile(file))) add(name, value, file);
  }
  for (const [name, value] of Object.entries(environment)) add(name, value, 'environment');
  return secrets;
}

function* filesUnder(directory: string): Generator<string> {
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

/** Every finding in every file under `directory`. */
export function scanDirectory(directory: string, knownSecrets: KnownSecret[]): Finding[] {
  const findings: Finding[] = [];
  for (const path of filesUnder(directory)) {
    const file = relative(process.cwd(), path);
    const text = readFileSync(path).toString('latin1');
    for (const { rule, pattern, isSecret } of shapeRules) {
      for (const match of text.matchAll(pattern)) {
        if (!isSecret || isSecret(match[0])) findings.push({ file, rule, excerpt: redact(match[0]) });
      }
    }
    for (const secret of knownSecrets) {
      if (text.includes(secret.value)) findings.push({ file, rule: `value of ${secret.source}`, excerpt: redact(secret.value) });
    }
  }
  return findings;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const directories = process.argv.slice(2);
  if (directories.length === 0 || directories.includes('--help')) {
    console.error('Usage: node --import tsx scripts/lib/scan-web-bundle.ts <built directory>...');
    process.exit(directories.length === 0 ? 2 : 0);
  }
  const known = knownSecretValues(['.env', '.env.example', '.env.local'], process.env);
  let findings: Finding[] = [];
  for (const directory of directories) {
    if (!existsSync(directory)) {
      console.error(`scan-web-bundle: ${directory} does not exist; build the web apps first (npm run web:build)`);
      process.exit(2);
    }
    findings = findings.concat(scanDirectory(directory, known));
  }
  if (findings.length > 0) {
    console.error(`scan-web-bundle: ${findings.length} secret-like value(s) in the bundles; they must not be published:`);
    for (const f of findings) console.error(`  - ${f.file}: ${f.rule}: ${f.excerpt}`);
    console.error('Remove the value from every VITE_ variable and from the web code, then build again.');
    process.exit(1);
  }
  console.log(
    `scan-web-bundle: no secrets in ${directories.join(', ')} (checked ${known.length} known secret values and ${shapeRules.length} shapes)`,
  );
}

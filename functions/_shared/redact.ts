// Keeps secrets out of logs: the known secret values of this process's configuration (config.ts remembers
// them when it loads), fields whose names say they hold a secret, and strings shaped like credentials
// (JWTs, bearer tokens, passwords in URLs, PEM private keys, well-known token prefixes).
// Runtime-agnostic: no imports, so config.ts and log.ts can both depend on it.

export const REDACTED = '[REDACTED]';

// Shorter values (e.g. an empty local password, "postgres") would blank out ordinary words.
const KNOWN_SECRET_MIN_LENGTH = 8;
const MAX_DEPTH = 12;

const knownSecretValues = new Set<string>();

/** Remembers secret values (and their URL-encoded forms) so every later log line hides them. */
export function rememberSecretValues(values: Iterable<string | undefined>): void {
  for (const value of values) {
    if (!value || value.length < KNOWN_SECRET_MIN_LENGTH) continue;
    knownSecretValues.add(value);
    knownSecretValues.add(encodeURIComponent(value));
  }
}

/** Field names that say their value is a secret: password, api_key, accessToken, Authorization, Set-Cookie, ... */
const SECRET_FIELD =
  /(^|_)(password|passwd|pwd|passphrase|secret|secrets|token|tokens|authorization|cookie|cookies|apikey|api_key|private_key|privatekey|credential|credentials|signature|jwt|access_key|dsn)(_|$)/;

export function isSecretFieldName(name: string): boolean {
  const normalised = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s.]/g, '_')
    .toLowerCase();
  return SECRET_FIELD.test(normalised) || /^(set_)?cookie$/.test(normalised);
}

/** Credential-shaped substrings, each with what it becomes. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, `$1${REDACTED}@`],
  [/([?&;](?:access_token|refresh_token|token|api_key|apikey|key|secret|password|sig|signature)=)[^&\s#"]+/gi, `$1${REDACTED}`],
  [/\b(password|passwd|secret|api_key|apikey|token)(["']?\s*[=:]\s*["']?)[^\s"'&,;]{4,}/gi, `$1$2${REDACTED}`],
  [/\b(sbp|sb_secret|sk_live|sk_test|rk_live|ghp|gho|ghs|github_pat|glpat|xox[abprs])[_-][A-Za-z0-9_-]{10,}/g, REDACTED],
  [/\bAKIA[0-9A-Z]{16}\b/g, REDACTED],
  // our own access keys (functions/_shared/access-keys.ts), whole or cut short
  [/\bmdao_(?:local|test|dev|staging|prod)_[0-9A-Za-z]{6,}(?:_[0-9A-Za-z]*)?/g, REDACTED],
];

/** The text with every known secret value and credential-shaped substring replaced. */
export function redactText(text: string): string {
  let result = text;
  for (const secret of knownSecretValues) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  for (const [pattern, replacement] of SECRET_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** A copy of `value` that is safe to log: secret fields blanked, strings redacted, errors kept readable. */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, 0, new WeakSet()) as T;
}

// Counts and flags under a secret-sounding name (token_count, has_password) are not secrets.
const holdsSecret = (item: unknown) => (typeof item === 'string' && item !== '') || (typeof item === 'object' && item !== null);

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), stack: value.stack === undefined ? undefined : redactText(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
  if (value instanceof Date) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = isSecretFieldName(key) && holdsSecret(item) ? REDACTED : redactValue(item, depth + 1, seen);
  }
  return copy;
}

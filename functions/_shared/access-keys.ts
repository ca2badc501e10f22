// Access keys for agents and integrations: `mdao_<env>_<random>_<checksum>`.
// - The fixed prefix and shape let secret scanners find a leaked key (as GitHub's `ghp_` tokens do).
// - The environment inside the key refuses a staging key in prod before any lookup.
// - The checksum (CRC-32 of everything before it, base62) catches a mistyped or truncated key offline.
// - 32 base62 characters of randomness (~190 bits); only the SHA-256 of the whole key is stored.
import type { AppEnv } from './config.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32: every CRC-32 value has its own spelling
const KEY_ENVIRONMENTS: readonly AppEnv[] = ['local', 'test', 'dev', 'staging', 'prod'];
/** Anything that starts like one of our keys: the gateway treats the bearer as a key, never as a JWT. */
export const ACCESS_KEY_PREFIX = 'mdao_';
const KEY_SHAPE = new RegExp(`^mdao_(${KEY_ENVIRONMENTS.join('|')})_([0-9A-Za-z]{${RANDOM_LENGTH}})_([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);
/** Characters of the random part shown in lists, so a person can tell keys apart. */
const DISPLAY_RANDOM_CHARACTERS = 6;

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, the zlib one) of a string's UTF-8 bytes. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = CRC32_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(value: number, width: number): string {
  let text = '';
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) text = BASE62[rest % 62] + text;
  return text.padStart(width, '0');
}

function randomBase62(length: number): string {
  let text = '';
  // rejection sampling: bytes ≥ 248 (= 4 × 62) would make the first characters likelier
  while (text.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && text.length < length) text += BASE62[byte % 62];
    }
  }
  return text;
}

const checksumOf = (body: string) => base62(crc32(body), CHECKSUM_LENGTH);

export interface NewAccessKey {
  /** The whole key: shown to its creator once, never stored. */
  key: string;
  /** SHA-256 of the key, hex: what the database keeps (as bytea). */
  hash: string;
  /** `mdao_prod_AbCdEf`: enough for a person to tell keys apart. */
  displayPrefix: string;
}

/** SHA-256 of the whole key, as hex. Keys are random (~190 bits), so a plain hash is as strong as a slow one. */
export async function hashAccessKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export async function generateAccessKey(environment: AppEnv): Promise<NewAccessKey> {
  const body = `${ACCESS_KEY_PREFIX}${environment}_${randomBase62(RANDOM_LENGTH)}`;
  const key = `${body}_${checksumOf(body)}`;
  return { key, hash: await hashAccessKey(key), displayPrefix: displayPrefixOf(key) };
}

/** `mdao_<env>_` and the first characters of the random part. */
const displayPrefixOf = (key: string): string => key.slice(0, key.length - CHECKSUM_LENGTH - 1 - RANDOM_LENGTH + DISPLAY_RANDOM_CHARACTERS);

export type AccessKeyShapeError = 'key_malformed' | 'key_checksum_mismatch' | 'key_wrong_environment';

export type ParsedAccessKey = { ok: true; environment: AppEnv } | { ok: false; error: AccessKeyShapeError; message: string };

/** Checks a key's shape, checksum and environment without any lookup. */
export function parseAccessKey(key: string, expectedEnvironment: AppEnv): ParsedAccessKey {
  const match = KEY_SHAPE.exec(key);
  if (!match) {
    return {
      ok: false,
      error: 'key_malformed',
      message: 'The access key is not of the form mdao_<environment>_<32 characters>_<6 characters>; copy the whole key again.',
    };
  }
  const [, environment, random, checksum] = match;
  if (checksumOf(`${ACCESS_KEY_PREFIX}${environment}_${random}`) !== checksum) {
    return {
      ok: false,
      error: 'key_checksum_mismatch',
      message: "The access key's checksum does not match: it was mistyped or cut short; copy the whole key again.",
    };
  }
  if (environment !== expectedEnvironment) {
    return {
      ok: false,
      error: 'key_wrong_environment',
      message: `This is a ${environment} access key; this is the ${expectedEnvironment} API. Use a key made for ${expectedEnvironment}.`,
    };
  }
  return { ok: true, environment: environment as AppEnv };
}

export const looksLikeAccessKey = (token: string): boolean => token.startsWith(ACCESS_KEY_PREFIX);

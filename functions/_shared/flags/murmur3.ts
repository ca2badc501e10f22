// MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain algorithm), over the UTF-8 bytes of a string.
// Percentage rollouts bucket users with it the way Unleash's clients do, so a flag moved between the two keeps
// its users in or out (the same for ASCII ids such as UUIDs; Unleash's Node client hashes UTF-16 code units).

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const scramble = (k: number) => Math.imul(rotl(Math.imul(k, C1), 15), C2);

export function murmur3x86_32(text: string, seed = 0): number {
  const bytes = encoder.encode(text);
  const blocks = bytes.length >>> 2;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 1) {
    const o = i * 4;
    const k = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
    h = (Math.imul(rotl(h ^ scramble(k), 13), 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  let k = 0;
  switch (bytes.length & 3) {
    case 3:
      k ^= bytes[tail + 2]! << 16;
    // falls through
    case 2:
      k ^= bytes[tail + 1]! << 8;
    // falls through
    case 1:
      k ^= bytes[tail]!;
      h ^= scramble(k);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A user's bucket in a group, 1..100: a rollout of p % includes the users whose bucket is ≤ p, so raising p
    only adds users. Unleash's normalizedValue(`${groupId}:${userId}`, seed 0, 100). */
export const rolloutBucket = (groupId: string, userId: string): number => (murmur3x86_32(`${groupId}:${userId}`, 0) % 100) + 1;

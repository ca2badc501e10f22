// What a file really is, from its first bytes: the allow-list of types a team may upload, each recognised by
// its magic bytes. The declared type and the name's extension are never trusted (a script renamed .png is
// not a PNG). text/plain has no magic: it is accepted when the start is valid UTF-8 without NUL bytes, and it
// is always served as an attachment, so it cannot run on our origin.

export const SNIFF_BYTES = 4096;

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

const MAGIC: { type: string; matches: (bytes: Uint8Array) => boolean }[] = [
  { type: 'image/png', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { type: 'image/gif', matches: (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a')) },
  { type: 'image/webp', matches: (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8) },
  { type: 'application/pdf', matches: (b) => startsWith(b, ascii('%PDF-')) },
];

export const ALLOWED_TYPES = [...MAGIC.map((m) => m.type), 'text/plain'] as const;
export type AllowedType = (typeof ALLOWED_TYPES)[number];
export const isAllowedType = (type: string): type is AllowedType => (ALLOWED_TYPES as readonly string[]).includes(type);

/** Images are previewed inline by the web app (through a presigned URL); everything else only downloads. */
export const isImageType = (type: string): boolean => type.startsWith('image/');

function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  // a multi-byte character cut at the end of a full sniff window is fine: retry without up to 3 trailing bytes
  const cuts = bytes.length < SNIFF_BYTES ? [0] : [0, 1, 2, 3];
  return cuts.some((cut) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, bytes.length - cut));
      return true;
    } catch {
      return false;
    }
  });
}

/** The allowed type the bytes are, or null. A declared text/plain must look like text; any other declared
    type must be what the magic bytes say. */
export function sniffType(head: Uint8Array, declared: string): AllowedType | null {
  const magic = MAGIC.find((m) => m.matches(head));
  if (magic) return magic.type === declared ? (magic.type as AllowedType) : null;
  if (declared === 'text/plain' && looksLikeText(head)) return 'text/plain';
  return null;
}

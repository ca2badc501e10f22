// Standard Webhooks signing and verification (https://www.standardwebhooks.com) through the reference
// library `standardwebhooks`: HMAC-SHA256 over `id.timestamp.body` of the raw bytes, ±5 minutes, several
// `v1,` signatures per header, constant-time comparison. This module adds what the library leaves to us:
// one stable error code per way a webhook can be wrong, several configured secrets per partner (a rotation
// overlap), and where a partner's secret comes from (EMBASSY_WEBHOOK_SECRET_<PARTNER>).
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export type SignatureRefusal =
  | 'webhook_headers_missing'
  | 'webhook_timestamp_invalid'
  | 'webhook_timestamp_stale'
  | 'webhook_timestamp_future'
  | 'webhook_signature_mismatch';

export const refusalMessages: Record<SignatureRefusal, string> = {
  webhook_headers_missing: 'Send the webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks).',
  webhook_timestamp_invalid: 'webhook-timestamp must be whole seconds since 1970 (Unix time).',
  webhook_timestamp_stale:
    'webhook-timestamp is more than 5 minutes in the past; sign the webhook again when you send it (check the sender’s clock).',
  webhook_timestamp_future: 'webhook-timestamp is more than 5 minutes in the future; check the sender’s clock.',
  webhook_signature_mismatch:
    'No webhook-signature matches this body signed with your secret; sign the exact bytes you send, with the current secret.',
};

export type Verification = { ok: true; outcome: 'verified' | 'verified_previous_secret' } | { ok: false; refusal: SignatureRefusal };

/** The configuration variable holding a partner's secret(s): energy-union → EMBASSY_WEBHOOK_SECRET_ENERGY_UNION. */
export const secretVariableOf = (partner: string): string => `EMBASSY_WEBHOOK_SECRET_${partner.toUpperCase().replace(/-/g, '_')}`;

/** A partner's secrets from the variable's value: the current one first, then any kept during a rotation
    (separated by spaces). Each is a Standard Webhooks secret (`whsec_` + base64) or, failing that, raw text. */
export function parseSecrets(value: string | undefined): Webhook[] {
  if (!value) return [];
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((secret) => (/^whsec_[A-Za-z0-9+/=]+$/.test(secret) ? new Webhook(secret) : new Webhook(secret, { format: 'raw' })));
}

const refusalOf = (error: unknown): SignatureRefusal => {
  const message = error instanceof WebhookVerificationError ? error.message : '';
  if (message === 'Missing required headers') return 'webhook_headers_missing';
  if (message === 'Invalid Signature Headers') return 'webhook_timestamp_invalid';
  if (message === 'Message timestamp too old') return 'webhook_timestamp_stale';
  if (message === 'Message timestamp too new') return 'webhook_timestamp_future';
  return 'webhook_signature_mismatch';
};

/** Verifies raw bytes and headers against each configured secret in turn. */
export function verifyWebhook(secrets: readonly Webhook[], body: Uint8Array, headers: Record<string, string | undefined>): Verification {
  const wanted = {
    'webhook-id': headers['webhook-id'] ?? '',
    'webhook-timestamp': headers['webhook-timestamp'] ?? '',
    'webhook-signature': headers['webhook-signature'] ?? '',
  };
  let refusal: SignatureRefusal = 'webhook_signature_mismatch';
  for (const [index, secret] of secrets.entries()) {
    try {
      secret.verify(body, wanted, { jsonParse: false });
      return { ok: true, outcome: index === 0 ? 'verified' : 'verified_previous_secret' };
    } catch (error) {
      refusal = refusalOf(error);
      // headers and timestamps are the same for every secret: no point trying the next one
      if (refusal !== 'webhook_signature_mismatch') return { ok: false, refusal };
    }
  }
  return { ok: false, refusal };
}

/** The three headers of a webhook signed with each of `secrets` (a sender rotating signs with both). */
export function signWebhook(secrets: readonly Webhook[], id: string, body: Uint8Array | string, at = new Date()): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => secret.sign(id, new Date(timestamp * 1000), body)).join(' '),
  };
}

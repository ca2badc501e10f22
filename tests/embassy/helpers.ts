// What the Embassy tests share: partner secrets for a test gateway, and a partner that signs and sends.
import { parseSecrets, signWebhook } from '../../functions/_shared/embassy/signatures.ts';
import type { App } from '../../functions/api/app.ts';
import { call, type Answer } from '../api/helpers.ts';

// test-only secrets (Standard Webhooks format: whsec_ + base64 of random bytes)
export const ENERGY_SECRET = 'whsec_dGVzdC1vbmx5LWVuZXJneS11bmlvbi1zZWNyZXQtMDEyMzQ1Njc4OQ==';
export const ENERGY_PREVIOUS_SECRET = 'whsec_dGVzdC1vbmx5LW9sZC1lbmVyZ3ktc2VjcmV0LWFiY2RlZmdoaWprbG0=';
export const GREENFOOD_SECRET = 'whsec_dGVzdC1vbmx5LWdyZWVuZm9vZC1zZWNyZXQtMDEyMzQ1Njc4OWFiYw==';
export const WATER_SECRET = 'whsec_dGVzdC1vbmx5LXdhdGVyLXVuaW9uLXNlY3JldC0wMTIzNDU2Nzg5YWI=';
export const OTHER_SECRET = 'whsec_bm90LXRoZS1wYXJ0bmVycy1zZWNyZXQtYXQtYWxsLTAxMjM0NTY3ODk=';

/** Gateway variables: Energy Union in a rotation (current + previous secret), GREENFOOD and Water Union with one. */
export const partnerSecretsEnv = {
  EMBASSY_WEBHOOK_SECRET_ENERGY_UNION: `${ENERGY_SECRET} ${ENERGY_PREVIOUS_SECRET}`,
  EMBASSY_WEBHOOK_SECRET_GREENFOOD: GREENFOOD_SECRET,
  EMBASSY_WEBHOOK_SECRET_WATER_UNION: WATER_SECRET,
};

export interface SendOptions {
  secrets?: string[];
  id?: string;
  at?: Date;
  /** Changes the headers after signing (a test breaking one). */
  headers?: (headers: Record<string, string>) => Record<string, string>;
  /** Changes the bytes after signing. */
  tamper?: (bytes: Uint8Array) => Uint8Array;
}

/** Signs `body` as the partner would and posts it to the gateway. */
export async function sendWebhook(
  app: App,
  partner: string,
  body: unknown,
  options: SendOptions = {},
): Promise<Answer<Record<string, unknown>>> {
  const bytes = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const signed = signWebhook(parseSecrets((options.secrets ?? [ENERGY_SECRET]).join(' ')), id, bytes, options.at);
  const headers = options.headers ? options.headers(signed) : signed;
  const sent = options.tamper ? options.tamper(bytes) : bytes;
  return call(app, 'POST', `/api/embassy/${partner}/webhooks`, { body: sent, headers: { 'content-type': 'application/json', ...headers } });
}

export const energyProduced = (teamId: string, kwh: string, meter = 'roof-meter-1') => {
  const at = new Date().toISOString();
  return { type: 'energy.produced', timestamp: at, data: { team_id: teamId, meter_id: meter, kwh, occurred_at: at } };
};

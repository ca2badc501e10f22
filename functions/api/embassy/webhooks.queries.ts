// SQL of the inbound webhook route. It runs as service_role: the caller is a partner proven by its signature,
// not a user, so there are no user claims for RLS to scope by; the route reads and writes only the partner's
// own rows (embassies, embassy_webhook_deliveries) and the outbox.
import type postgres from 'postgres';
import type { Tx } from '../../_shared/db.ts';

export interface EmbassyRow {
  partner: string;
  status: 'active' | 'paused' | 'retired';
  inbound_event_types: string[];
}

export async function findEmbassy(tx: Tx, partner: string): Promise<EmbassyRow | null> {
  const [row] = await tx<EmbassyRow[]>`
    select partner, status, inbound_event_types from public.embassies where partner = ${partner}`;
  return row ?? null;
}

export interface NewDelivery {
  id: string;
  partner: string;
  webhookId: string;
  eventType: string;
  teamId: string | null;
  payload: unknown;
  signatureOutcome: 'verified' | 'verified_previous_secret';
  status: 'accepted' | 'unknown_type' | 'invalid_payload';
  answerStatus: number;
  answerBody: unknown;
}

/** Stores a delivery; false when the partner already sent this webhook id (the first one stays). */
export async function insertDelivery(tx: Tx, delivery: NewDelivery): Promise<boolean> {
  const rows = await tx`
    insert into public.embassy_webhook_deliveries
      (id, partner, webhook_id, event_type, team_id, payload, signature_outcome, status, answer_status, answer_body)
    values (${delivery.id}, ${delivery.partner}, ${delivery.webhookId}, ${delivery.eventType}, ${delivery.teamId},
      ${tx.json(delivery.payload as postgres.JSONValue)}, ${delivery.signatureOutcome}, ${delivery.status},
      ${delivery.answerStatus}, ${tx.json(delivery.answerBody as postgres.JSONValue)})
    on conflict (partner, webhook_id) do nothing
    returning id`;
  return rows.length > 0;
}

/** The answer the first delivery of a webhook id got. */
export async function findFirstAnswer(tx: Tx, partner: string, webhookId: string): Promise<{ status: number; body: unknown } | null> {
  const [row] = await tx<{ answer_status: number; answer_body: unknown }[]>`
    select answer_status, answer_body from public.embassy_webhook_deliveries
    where partner = ${partner} and webhook_id = ${webhookId}`;
  return row ? { status: row.answer_status, body: row.answer_body } : null;
}

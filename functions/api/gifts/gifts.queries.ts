// SQL of the Gift Fabric. Runs in the request's transaction as its principal: RLS decides which gifts are
// visible; app.send_gift (migration 20261205001200) checks gift.send, the recipient and the available credits,
// and enqueues gift.sent with the row.
import type { Tx } from '../../_shared/db.ts';
import type { Cursor } from '../core/pagination.ts';

export type GiftStatus = 'sent' | 'delivered' | 'refused';

export interface GiftRow {
  id: string;
  team_id: string;
  sender_id: string;
  recipient_id: string;
  amount: string;
  memo: string;
  status: GiftStatus;
  refusal_reason: string | null;
  created_at: string;
  finished_at: string | null;
}

const giftColumns = (tx: Tx) => tx`
  id, team_id, sender_id, recipient_id, amount::text as amount, memo, status, refusal_reason, created_at, finished_at`;

export async function findGift(tx: Tx, giftId: string): Promise<GiftRow | null> {
  const [row] = await tx<GiftRow[]>`select ${giftColumns(tx)} from public.gifts where id = ${giftId}`;
  return row ?? null;
}

/** One page of the team's gifts, newest first: `limit + 1` rows, so the caller knows whether more follow. */
export function listTeamGifts(tx: Tx, teamId: string, before: Cursor | null, limit: number): Promise<GiftRow[]> {
  return tx<GiftRow[]>`
    select ${giftColumns(tx)} from public.gifts
    where team_id = ${teamId}
      ${before ? tx`and (created_at, id) < (${before.createdAt}::timestamptz, ${before.id}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${limit + 1}`;
}

export interface GiftRequest {
  teamId: string;
  recipientId: string;
  amount: string;
  memo: string;
  idempotencyKey: string;
  requestHash: string;
}

/** Records the gift, or finds the one the sender recorded earlier under the same key (`replayed`). */
export async function sendGift(tx: Tx, r: GiftRequest): Promise<{ gift_id: string; request_hash: string; replayed: boolean }> {
  const [row] = await tx<{ gift_id: string; request_hash: string; replayed: boolean }[]>`
    select * from app.send_gift(${r.teamId}, ${r.recipientId}, ${r.amount}::numeric, ${r.memo}, ${r.idempotencyKey}, ${r.requestHash})`;
  return row!;
}

/** Why app.send_gift refused, from the hint it raises with (undefined: not one of its refusals). */
export function giftRefusalOf(error: unknown): 'insufficient_credits' | 'own_gift' | 'recipient_not_member' | 'invalid_amount' | undefined {
  const { code, hint } = error as { code?: unknown; hint?: unknown };
  if (code === 'P0001' && hint === 'insufficient_credits') return 'insufficient_credits';
  if (code === '22023' && (hint === 'own_gift' || hint === 'recipient_not_member' || hint === 'invalid_amount')) return hint;
  return undefined;
}

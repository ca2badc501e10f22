// SQL of payouts. Runs in the request's transaction as its principal: RLS decides what is visible, and the
// security-definer functions of migration 20261205000700 check payout.propose / payout.approve, enforce the
// state machine and enqueue the outbox events.
import type { Tx } from '../../_shared/db.ts';

export type PayoutStatus = 'requested' | 'approved' | 'submitted' | 'confirmed' | 'failed' | 'cancelled';

export interface PayoutRow {
  id: string;
  team_id: string;
  requested_by: string | null;
  chain_id: number;
  token: string;
  recipient: string;
  amount: string;
  memo: string;
  status: PayoutStatus;
  approvals: string[];
  approval_threshold: number;
  tx_hash: string | null;
  nonce: number | null;
  block_number: number | null;
  confirmations: number;
  last_error: string | null;
  /** The Safe that pays it and its Safe nonce (migration 20261205001110); null: the hot signer pays. */
  safe_address: string | null;
  safe_nonce: string | null;
  created_at: string;
  updated_at: string;
}

const payoutColumns = (tx: Tx) => tx`
  p.id, p.team_id, p.requested_by, p.chain_id::int as chain_id, p.token, p.recipient, p.amount::text as amount, p.memo,
  p.status, p.tx_hash, p.nonce::int as nonce, p.block_number::int as block_number, p.confirmations, p.last_error,
  p.safe_address, p.safe_nonce::text as safe_nonce, p.created_at, p.updated_at,
  coalesce((select array_agg(a.approver_id order by a.approved_at) from public.payout_approvals a where a.payout_id = p.id),
    '{}') as approvals,
  coalesce((select s.approval_threshold from public.wallet_settings s where s.team_id = p.team_id), 1) as approval_threshold`;

export async function findPayout(tx: Tx, teamId: string, payoutId: string): Promise<PayoutRow | null> {
  const [row] = await tx<PayoutRow[]>`
    select ${payoutColumns(tx)} from public.payouts p where p.id = ${payoutId} and p.team_id = ${teamId}`;
  return row ?? null;
}

/** A team's payouts, newest first, optionally of one status. */
export function listPayouts(tx: Tx, teamId: string, status: PayoutStatus | undefined, limit: number): Promise<PayoutRow[]> {
  return tx<PayoutRow[]>`
    select ${payoutColumns(tx)} from public.payouts p
    where p.team_id = ${teamId} ${status ? tx`and p.status = ${status}` : tx``}
    order by p.created_at desc, p.id
    limit ${limit}`;
}

export interface PayoutRequest {
  teamId: string;
  chainId: number;
  token: string;
  recipient: string;
  amount: string;
  memo: string;
  idempotencyKey: string;
  requestHash: string;
}

/** Records the request, or finds the payout recorded earlier under the same key (`replayed`). */
export async function requestPayout(tx: Tx, r: PayoutRequest): Promise<{ payout_id: string; request_hash: string; replayed: boolean }> {
  const [row] = await tx<{ payout_id: string; request_hash: string; replayed: boolean }[]>`
    select * from app.request_payout(${r.teamId}, ${r.chainId}, ${r.token}, ${r.recipient}, ${r.amount}::numeric, ${r.memo},
      ${r.idempotencyKey}, ${r.requestHash})`;
  return row!;
}

export type ApprovalOutcome = 'approved' | 'recorded' | 'not_found' | 'not_requested' | 'own_payout' | 'already_approved';

export async function approvePayout(tx: Tx, payoutId: string): Promise<ApprovalOutcome> {
  const [row] = await tx<{ outcome: ApprovalOutcome }[]>`select app.approve_payout(${payoutId}) as outcome`;
  return row!.outcome;
}

export type CancelOutcome = 'cancelled' | 'not_found' | 'forbidden' | 'not_cancellable' | 'safe_signed';

export async function cancelPayout(tx: Tx, payoutId: string): Promise<CancelOutcome> {
  const [row] = await tx<{ outcome: CancelOutcome }[]>`select app.cancel_payout(${payoutId}) as outcome`;
  return row!.outcome;
}

export async function setApprovalThreshold(tx: Tx, teamId: string, threshold: number): Promise<void> {
  await tx`select app.set_payout_threshold(${teamId}, ${threshold})`;
}

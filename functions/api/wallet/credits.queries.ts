// SQL of the credit ledger and RINGK stakes. The functions of migration 20261205000700 check wallet.manage /
// stake.manage, refuse overdrafts (serialised per account) and keep every ledger transaction balanced.
import type { Tx } from '../../_shared/db.ts';

export interface Balance {
  account: string;
  balance: string;
}

/** Balances of the team's accounts (wallet.read holders see them through RLS). */
export function teamBalances(tx: Tx, teamId: string): Promise<Balance[]> {
  return tx<Balance[]>`
    select account, sum(amount)::text as balance from public.ledger_entries
    where team_id = ${teamId} group by account order by account`;
}

export async function grantCredits(tx: Tx, teamId: string, memberId: string, amount: string, memo: string): Promise<string> {
  const [row] = await tx<{ id: string }[]>`select app.grant_credits(${teamId}, ${memberId}, ${amount}::numeric, ${memo}) as id`;
  return row!.id;
}

export interface StakeRow {
  id: string;
  team_id: string;
  user_id: string;
  amount: string;
  lock_days: number;
  status: 'locked' | 'withdrawn';
  created_at: string;
  locked_until: string;
  withdrawn_at: string | null;
}

const stakeColumns = (tx: Tx) =>
  tx`id, team_id, user_id, amount::text as amount, lock_days, status, created_at, locked_until, withdrawn_at`;

export function listStakes(tx: Tx, teamId: string): Promise<StakeRow[]> {
  return tx<StakeRow[]>`
    select ${stakeColumns(tx)} from public.staking_ringk where team_id = ${teamId} order by created_at desc, id limit 200`;
}

export async function findStake(tx: Tx, teamId: string, stakeId: string): Promise<StakeRow | null> {
  const [row] = await tx<StakeRow[]>`
    select ${stakeColumns(tx)} from public.staking_ringk where id = ${stakeId} and team_id = ${teamId}`;
  return row ?? null;
}

export async function stake(tx: Tx, teamId: string, amount: string, lockDays: number): Promise<string> {
  const [row] = await tx<{ id: string }[]>`select app.stake_ringk(${teamId}, ${amount}::numeric, ${lockDays}) as id`;
  return row!.id;
}

export type WithdrawOutcome = 'withdrawn' | 'not_found' | 'locked' | 'already_withdrawn';

export async function withdrawStake(tx: Tx, stakeId: string): Promise<WithdrawOutcome> {
  const [row] = await tx<{ outcome: WithdrawOutcome }[]>`select app.unstake_ringk(${stakeId}) as outcome`;
  return row!.outcome;
}

/** Whether a database error is the ledger refusing an overdraft (app.post_ledger_transfer). */
export const isInsufficientCredits = (error: unknown): boolean =>
  (error as { code?: unknown }).code === 'P0001' && (error as { hint?: unknown }).hint === 'insufficient_credits';

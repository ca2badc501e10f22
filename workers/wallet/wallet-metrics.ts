// The wallet worker's metrics: payouts it submitted, confirmed and failed, the time from approval to
// confirmation, chain errors by step, and (read from Postgres at each scrape) the payouts in flight and how long
// the oldest has waited — what an operator needs to see a stuck payout before a member asks.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Sql } from '../lib/postgres.ts';

export const CHAIN_STEPS = ['connect', 'simulate', 'sign', 'broadcast', 'receipt', 'balance'] as const;
export type ChainStep = (typeof CHAIN_STEPS)[number];
export const FAILURE_REASONS = ['refused', 'reverted', 'chain_reset'] as const;
const IN_FLIGHT = ['approved', 'submitted'] as const;

export function createWalletMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  const metrics = {
    registry,
    submitted: new Counter({
      name: 'microdao_wallet_payouts_submitted_total',
      help: 'Payouts signed, recorded and sent to the chain (approved → submitted).',
      registers,
    }),
    confirmed: new Counter({
      name: 'microdao_wallet_payouts_confirmed_total',
      help: 'Payouts whose transfer reached WALLET_CONFIRMATIONS blocks (submitted → confirmed).',
      registers,
    }),
    failed: new Counter({
      name: 'microdao_wallet_payouts_failed_total',
      help: 'Payouts that failed, by reason: refused (the simulated transfer would revert; nothing signed) reverted (mined but reverted) or chain_reset (sent on a chain since reset: its genesis block changed).',
      labelNames: ['reason'] as const,
      registers,
    }),
    confirmationSeconds: new Histogram({
      name: 'microdao_wallet_payout_confirmation_seconds',
      help: 'Time from a payout’s approval to its confirmation on chain.',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
    chainErrors: new Counter({
      name: 'microdao_wallet_chain_errors_total',
      help: 'Calls to the chain node that failed (unreachable, timed out, refused), by step; the payout stays where it was and is retried.',
      labelNames: ['step'] as const,
      registers,
    }),
    inFlight: new Gauge({
      name: 'microdao_wallet_payouts_in_flight',
      help: 'Payouts on this worker’s chain waiting for it, by status (approved: not yet sent; submitted: not yet confirmed).',
      labelNames: ['status'] as const,
      registers,
    }),
    oldestInFlightSeconds: new Gauge({
      name: 'microdao_wallet_oldest_in_flight_seconds',
      help: 'Time since approval of the oldest payout on this worker’s chain not yet confirmed or failed (0 when none): a stuck payout shows here.',
      registers,
    }),
  };
  for (const reason of FAILURE_REASONS) metrics.failed.inc({ reason }, 0);
  for (const step of CHAIN_STEPS) metrics.chainErrors.inc({ step }, 0);
  for (const status of IN_FLIGHT) metrics.inFlight.set({ status }, 0);
  return metrics;
}

export type WalletMetrics = ReturnType<typeof createWalletMetrics>;

/** Reads the payouts in flight on `chainId` into the gauges (run before each scrape). */
export async function readPayoutsInFlight(sql: Sql, chainId: number, metrics: WalletMetrics): Promise<void> {
  const rows = await sql<{ status: (typeof IN_FLIGHT)[number]; count: number; oldest: number | null }[]>`
    select status, count(*)::int as count, extract(epoch from now() - min(approved_at))::float8 as oldest
    from public.payouts where status in ('approved', 'submitted') and chain_id = ${chainId}
    group by status`;
  let oldest = 0;
  for (const status of IN_FLIGHT) {
    const row = rows.find((r) => r.status === status);
    metrics.inFlight.set({ status }, row?.count ?? 0);
    oldest = Math.max(oldest, row?.oldest ?? 0);
  }
  metrics.oldestInFlightSeconds.set(oldest);
}

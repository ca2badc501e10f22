// Events of the wallet domain: payout transitions, stakes, credit grants. The database enqueues them (triggers
// and functions of migration 20261205000700), so these schemas mirror the jsonb it builds. Amounts are decimal
// strings of base units: a JSON number cannot hold a uint256 exactly.
import { z } from 'zod';
import { defineEvents, timestamp, uuid } from './define.ts';

const baseUnits = z.string().regex(/^[0-9]{1,78}$/);
const address = z.string().regex(/^0x[0-9a-f]{40}$/);

const payoutPayload = z.object({
  payout_id: uuid,
  team_id: uuid,
  status: z.enum(['requested', 'approved', 'submitted', 'confirmed', 'failed', 'cancelled']),
  chain_id: z.number().int().positive(),
  token: address,
  recipient: address,
  amount: baseUnits,
  tx_hash: z
    .string()
    .regex(/^0x[0-9a-f]{64}$/)
    .nullable(),
  last_error: z.string().nullable(),
});
const payoutEvent = { version: 1, aggregate: 'payout', payload: payoutPayload } as const;

const stakePayload = z.object({ stake_id: uuid, team_id: uuid, user_id: uuid, amount: baseUnits, locked_until: timestamp });

export const walletEvents = defineEvents({
  'payout.requested': payoutEvent,
  'payout.approved': payoutEvent,
  'payout.submitted': payoutEvent,
  'payout.confirmed': payoutEvent,
  'payout.failed': payoutEvent,
  'payout.cancelled': payoutEvent,
  'stake.locked': { version: 1, aggregate: 'stake', payload: stakePayload },
  'stake.withdrawn': { version: 1, aggregate: 'stake', payload: stakePayload },
  'credits.granted': {
    version: 1,
    aggregate: 'ledger',
    payload: z.object({ transaction_id: uuid, team_id: uuid, member_id: uuid, amount: baseUnits }),
  },
});

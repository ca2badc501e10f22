// Events of the Gift Fabric: a gift sent by a member (the gateway, through app.send_gift), then delivered or
// refused by the gift-fabric consumer (app.apply_gift). The database enqueues them (trigger of migration
// 20261205001200), so the schema mirrors the jsonb it builds. Amounts are decimal strings of base units.
import { z } from 'zod';
import { defineEvents, timestamp, uuid } from './define.ts';

const giftPayload = z.object({
  gift_id: uuid,
  team_id: uuid,
  sender_id: uuid,
  recipient_id: uuid,
  amount: z.string().regex(/^[0-9]{1,78}$/),
  status: z.enum(['sent', 'delivered', 'refused']),
  refusal_reason: z.string().nullable(),
  created_at: timestamp,
});
const giftEvent = { version: 1, aggregate: 'gift', payload: giftPayload } as const;

export const giftEvents = defineEvents({
  'gift.sent': giftEvent,
  'gift.delivered': giftEvent,
  'gift.refused': giftEvent,
});

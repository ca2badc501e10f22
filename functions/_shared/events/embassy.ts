// Events of the Embassy domain: partner webhooks received (the consumer applies them) and the real-world-asset
// inventory changes they cause (partners subscribe to these as outbound webhooks).
import { z } from 'zod';
import { defineEvents, timestamp, uuid } from './define.ts';

/** An exact decimal as text ("12.5"), never a float: inventory quantities are numeric(38, 6). */
const decimal = z.string().regex(/^-?\d{1,32}(\.\d{1,6})?$/);

export const embassyEvents = defineEvents({
  // the payload stays in embassy_webhook_deliveries; the event says where to find it
  'embassy.webhook_received': {
    version: 1,
    aggregate: 'embassy_delivery',
    payload: z.object({
      delivery_id: uuid,
      partner: z.string(),
      webhook_id: z.string(),
      event_type: z.string(),
      team_id: uuid.nullable(),
    }),
  },
  'embassy.partner_linked': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, partner: z.string(), linked_by: uuid }),
  },
  'rwa.inventory_changed': {
    version: 1,
    aggregate: 'rwa_inventory',
    payload: z.object({
      inventory_id: uuid,
      team_id: uuid,
      partner: z.string(),
      asset_kind: z.enum(['energy', 'food_lot', 'water']),
      asset_ref: z.string(),
      unit: z.enum(['kWh', 'kg', 'm3']),
      delta: decimal,
      quantity: decimal,
      version: z.number().int().positive(),
      delivery_id: uuid,
      occurred_at: timestamp,
    }),
  },
});

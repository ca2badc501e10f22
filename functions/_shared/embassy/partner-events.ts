// What each Embassy partner may send: one zod schema per partner and event type (Standard Webhooks envelope
// `{ type, timestamp, data }`), and how an accepted event moves a team's real-world-asset inventory. Shared by
// the gateway (validation before a webhook is accepted), the Embassy consumer (applying it) and the partner
// simulator (scripts/embassy-sim.ts), so all three read one definition.
import { z } from 'zod';

export const PARTNERS = ['energy-union', 'greenfood', 'water-union', 'essence-stream'] as const;
export type Partner = (typeof PARTNERS)[number];
export const isPartner = (value: string): value is Partner => (PARTNERS as readonly string[]).includes(value);

/** An exact positive quantity as text, at most 6 decimals (numeric(38, 6)); never a float. */
export const Quantity = z
  .string()
  .regex(/^\d{1,32}(\.\d{1,6})?$/, { message: 'must be a decimal string such as "12.5" (at most 6 decimals)' })
  .refine((value) => Number(value) > 0, { message: 'must be greater than zero' });

const uuid = z.uuid();
const ref = z.string().trim().min(1).max(120);
const location = z.string().trim().min(1).max(200).optional();
const occurredAt = z.iso.datetime({ offset: true });

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.strictObject({ type: z.literal(type), timestamp: occurredAt, data });

const energy = z.strictObject({ team_id: uuid, meter_id: ref, kwh: Quantity, location, occurred_at: occurredAt });
const food = z.strictObject({ team_id: uuid, lot_id: ref, kg: Quantity, location, occurred_at: occurredAt });
const water = z.strictObject({ team_id: uuid, right_id: ref, m3: Quantity, location, occurred_at: occurredAt });

/** Per partner, per event type: the payload schema. A type missing here is stored and answered 422. */
export const partnerEventSchemas = {
  'energy-union': { 'energy.produced': envelope('energy.produced', energy), 'energy.consumed': envelope('energy.consumed', energy) },
  greenfood: { 'food.lot_received': envelope('food.lot_received', food), 'food.lot_shipped': envelope('food.lot_shipped', food) },
  'water-union': { 'water.allocated': envelope('water.allocated', water), 'water.consumed': envelope('water.consumed', water) },
  'essence-stream': {
    'essence.ping': envelope('essence.ping', z.strictObject({ team_id: uuid.optional(), note: z.string().max(200).optional() })),
  },
} as const satisfies Record<Partner, Record<string, z.ZodType>>;

export type AssetKind = 'energy' | 'food_lot' | 'water';
export type AssetUnit = 'kWh' | 'kg' | 'm3';
export type MovementKind = 'produced' | 'consumed' | 'received' | 'shipped' | 'allocated';

/** How an event changes the inventory: `sign` +1 adds `quantity`, -1 takes it away. */
export interface InventoryMovement {
  teamId: string;
  assetKind: AssetKind;
  unit: AssetUnit;
  assetRef: string;
  location: string | null;
  kind: MovementKind;
  sign: 1 | -1;
  quantity: string;
  occurredAt: string;
}

/** The schema of a partner's event type, or undefined when the partner does not send that type. */
export function partnerEventSchema(partner: Partner, type: string): z.ZodType | undefined {
  const schemas = partnerEventSchemas[partner] as Record<string, z.ZodType>;
  return Object.hasOwn(schemas, type) ? schemas[type] : undefined;
}

/** The team an event body names (before validation: recorded with the delivery), if any. */
export function teamOf(body: unknown): string | null {
  const teamId = (body as { data?: { team_id?: unknown } } | null)?.data?.team_id;
  return typeof teamId === 'string' && uuid.safeParse(teamId).success ? teamId : null;
}

/** The inventory movement of a validated event; null for events that move nothing (a ping). */
export function movementOf(type: string, body: unknown): InventoryMovement | null {
  const { data } = body as { data: Record<string, string | undefined> };
  const common = { teamId: data.team_id!, location: data.location ?? null, occurredAt: data.occurred_at! };
  switch (type) {
    case 'energy.produced':
    case 'energy.consumed':
      return {
        ...common,
        assetKind: 'energy',
        unit: 'kWh',
        assetRef: data.meter_id!,
        quantity: data.kwh!,
        kind: type === 'energy.produced' ? 'produced' : 'consumed',
        sign: type === 'energy.produced' ? 1 : -1,
      };
    case 'food.lot_received':
    case 'food.lot_shipped':
      return {
        ...common,
        assetKind: 'food_lot',
        unit: 'kg',
        assetRef: data.lot_id!,
        quantity: data.kg!,
        kind: type === 'food.lot_received' ? 'received' : 'shipped',
        sign: type === 'food.lot_received' ? 1 : -1,
      };
    case 'water.allocated':
    case 'water.consumed':
      return {
        ...common,
        assetKind: 'water',
        unit: 'm3',
        assetRef: data.right_id!,
        quantity: data.m3!,
        kind: type === 'water.allocated' ? 'allocated' : 'consumed',
        sign: type === 'water.allocated' ? 1 : -1,
      };
    default:
      return null;
  }
}

/** A sample event of every type a partner sends, for the simulator, the smoke check and tests. */
export function sampleEvents(partner: Partner, teamId: string, now = new Date()): { type: string; body: unknown }[] {
  const at = now.toISOString();
  const samples: Record<Partner, { type: string; data: Record<string, string> }[]> = {
    'energy-union': [{ type: 'energy.produced', data: { team_id: teamId, meter_id: 'roof-meter-1', kwh: '12.5', location: 'Kyiv' } }],
    greenfood: [{ type: 'food.lot_received', data: { team_id: teamId, lot_id: 'lot-2026-12-a', kg: '40', location: 'Lviv' } }],
    'water-union': [{ type: 'water.allocated', data: { team_id: teamId, right_id: 'well-7', m3: '3.25' } }],
    'essence-stream': [{ type: 'essence.ping', data: { team_id: teamId, note: 'hello' } }],
  };
  return samples[partner].map(({ type, data }) => ({ type, body: { type, timestamp: at, data: { ...data, occurred_at: at } } }));
}

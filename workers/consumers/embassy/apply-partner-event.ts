// The Embassy consumer's handler: applies an accepted partner webhook (event `embassy.webhook_received`) to
// the team's real-world-asset inventory, exactly once. Three locks on that: the durable consumer records the
// event id in this transaction; the delivery row is locked and marked processed in it (a second event naming
// the same delivery — an outbox replay — finds it processed); and rwa_movements.delivery_id is unique. The
// inventory row itself is updated optimistically: `where version = <read>`, re-read and retried on a
// concurrent change, and the database refuses any update that does not bump the version by one.
import type postgres from 'postgres';
import { movementOf, type InventoryMovement } from '../../../functions/_shared/embassy/partner-events.ts';
import type { EventPayload } from '../../../functions/_shared/events/catalog.ts';
import { assertCatalogPayload, enqueueEventCall } from '../../../functions/_shared/outbox.ts';
import type { ConsumedEvent, EventHandler } from '../durable-consumer.ts';

type Tx = postgres.TransactionSql;
type Result = 'applied' | 'team_not_linked' | 'insufficient_quantity' | 'no_effect';

/** Attempts at the optimistic update before the handler fails (and the consumer retries the message later). */
const VERSION_ATTEMPTS = 8;

interface DeliveryRow {
  id: string;
  partner: string;
  event_type: string;
  payload: unknown;
  status: string;
  processed_at: string | null;
}

/** The handler, telling `onProcessed` what each processed delivery came to (the consumer's metrics). */
export const partnerEventApplier =
  (onProcessed?: (partner: string, result: Result) => void): EventHandler =>
  async (event: ConsumedEvent, tx: Tx) => {
    if (event.type !== 'embassy.webhook_received') return;
    const { delivery_id: deliveryId } = event.payload as EventPayload<'embassy.webhook_received'>;
    const [delivery] = await tx<DeliveryRow[]>`
      select id, partner, event_type, payload, status, processed_at
      from public.embassy_webhook_deliveries where id = ${deliveryId} for update`;
    // gone (never committed, or a test's leftovers), already applied, or never applicable: nothing to do
    if (!delivery || delivery.processed_at || delivery.status !== 'accepted') return;
    const movement = movementOf(delivery.event_type, delivery.payload);
    const result = movement ? await applyMovement(tx, delivery, movement, event.correlationId ?? null) : 'no_effect';
    await tx`update public.embassy_webhook_deliveries set processed_at = now(), result = ${result} where id = ${deliveryId}`;
    onProcessed?.(delivery.partner, result);
  };

export const applyPartnerEvent: EventHandler = partnerEventApplier();

async function applyMovement(tx: Tx, delivery: DeliveryRow, movement: InventoryMovement, correlationId: string | null): Promise<Result> {
  const [linked] = await tx`
    select 1 from public.embassy_team_links where partner = ${delivery.partner} and team_id = ${movement.teamId}`;
  if (!linked) return 'team_not_linked';
  const delta = movement.sign === 1 ? movement.quantity : `-${movement.quantity}`;

  for (let attempt = 0; attempt < VERSION_ATTEMPTS; attempt += 1) {
    const [current] = await tx<{ id: string; version: string }[]>`
      select id, version::text from public.rwa_inventory
      where team_id = ${movement.teamId} and partner = ${delivery.partner}
        and asset_kind = ${movement.assetKind} and asset_ref = ${movement.assetRef}`;
    let changed: { id: string; quantity: string; version: string } | undefined;
    if (!current) {
      if (movement.sign === -1) return 'insufficient_quantity';
      [changed] = await tx<{ id: string; quantity: string; version: string }[]>`
        insert into public.rwa_inventory (team_id, partner, asset_kind, asset_ref, unit, quantity, location)
        values (${movement.teamId}, ${delivery.partner}, ${movement.assetKind}, ${movement.assetRef}, ${movement.unit},
          ${delta}::numeric, ${movement.location})
        on conflict (team_id, partner, asset_kind, asset_ref) do nothing
        returning id, quantity::text, version::text`;
    } else {
      [changed] = await tx<{ id: string; quantity: string; version: string }[]>`
        update public.rwa_inventory
        set quantity = quantity + ${delta}::numeric, version = version + 1, location = coalesce(${movement.location}, location)
        where id = ${current.id} and version = ${current.version}::bigint and quantity + ${delta}::numeric >= 0
        returning id, quantity::text, version::text`;
      if (!changed) {
        // lost to a concurrent writer (version moved: read again), or not enough left (version unchanged)
        const [now] = await tx<{ version: string }[]>`select version::text from public.rwa_inventory where id = ${current.id}`;
        if (now?.version === current.version) return 'insufficient_quantity';
      }
    }
    if (!changed) continue;
    await recordMovement(tx, delivery, movement, changed, delta, correlationId);
    return 'applied';
  }
  throw new Error(`rwa_inventory kept changing under ${VERSION_ATTEMPTS} attempts; the message will be retried`);
}

async function recordMovement(
  tx: Tx,
  delivery: DeliveryRow,
  movement: InventoryMovement,
  row: { id: string; quantity: string; version: string },
  delta: string,
  correlationId: string | null,
): Promise<void> {
  await tx`
    insert into public.rwa_movements (inventory_id, team_id, delivery_id, kind, delta, quantity_after, version_after, occurred_at)
    values (${row.id}, ${movement.teamId}, ${delivery.id}, ${movement.kind}, ${delta}::numeric, ${row.quantity}::numeric,
      ${row.version}::bigint, ${movement.occurredAt}::timestamptz)`;
  const payload = assertCatalogPayload('rwa.inventory_changed', {
    inventory_id: row.id,
    team_id: movement.teamId,
    partner: delivery.partner,
    asset_kind: movement.assetKind,
    asset_ref: movement.assetRef,
    unit: movement.unit,
    delta: trimDecimal(delta),
    quantity: trimDecimal(row.quantity),
    version: Number(row.version),
    delivery_id: delivery.id,
    occurred_at: movement.occurredAt,
  });
  await tx`select ${enqueueEventCall(tx, 'rwa.inventory_changed', tx`${row.id}`, tx`${tx.json(payload)}::jsonb`, correlationId ?? delivery.id)}`;
}

/** "12.500000" → "12.5", "40.000000" → "40": numeric(38, 6) text without its padding zeros. */
export const trimDecimal = (value: string): string => (value.includes('.') ? value.replace(/\.?0+$/, '') : value);

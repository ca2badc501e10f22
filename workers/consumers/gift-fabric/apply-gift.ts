// The Gift Fabric consumer's handler: a gift.sent event applies its gift to the ledger through app.apply_gift
// (migration 20261205001200), in the transaction that records the event id as processed. The function locks the
// gift, moves the credits under the unique reference gift:<id> and makes it delivered, or refuses it when the
// sender no longer holds the amount; either way its gift.delivered / gift.refused event is enqueued with it.
// A gift applied before (a duplicate event under another id) is left as it is.
import type { EventPayload } from '../../../functions/_shared/events/catalog.ts';
import type { GiftFabricMetrics } from '../../../functions/_shared/metrics.ts';
import type { EventHandler } from '../durable-consumer.ts';

export type GiftOutcome = 'delivered' | 'refused' | 'not_found' | 'already_delivered' | 'already_refused';

export function giftApplier(metrics?: GiftFabricMetrics): EventHandler {
  return async (event, tx) => {
    if (event.type !== 'gift.sent') return;
    const gift = event.payload as EventPayload<'gift.sent'>;
    const [row] = await tx<{ outcome: GiftOutcome }[]>`select app.apply_gift(${gift.gift_id}) as outcome`;
    const outcome = row!.outcome;
    // not_found: the team (and its gifts) was deleted since; nothing to apply
    if (outcome === 'delivered' || outcome === 'refused') {
      metrics?.gifts.inc({ outcome });
      metrics?.deliveryLag.observe(Math.max(0, (Date.now() - Date.parse(gift.created_at)) / 1000));
    } else {
      metrics?.gifts.inc({ outcome: 'duplicate' });
    }
  };
}

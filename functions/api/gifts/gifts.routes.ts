// The Gift Fabric: a member sends some of their RINGK credits to another member of the team (with an
// Idempotency-Key, as payouts), and reads the team's gift feed, newest first in cursor pages. The gift is
// recorded as sent with its gift.sent event in the request's transaction; the gift-fabric consumer
// (workers/consumers/gift-fabric) applies it to the ledger and makes it delivered or refused.
import { z } from '@hono/zod-openapi';
import { ApiError, forbidden } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { CursorParam, pageOf } from '../core/pagination.ts';
import { requireTeamCapability } from '../core/pep.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, PageLimit, securedRoute, Text, Timestamp, Uuid } from '../core/route.ts';
import { BaseUnits, IdempotencyHeader } from '../wallet/payouts.routes.ts';
import { requireGiftFabric } from './gift-fabric-flag.ts';
import { findGift, giftRefusalOf, listTeamGifts, sendGift } from './gifts.queries.ts';

const Gift = z
  .object({
    id: Uuid,
    team_id: Uuid,
    sender_id: Uuid,
    recipient_id: Uuid,
    amount: z.string().openapi({ description: 'Base units of RINGK credits, as a decimal string' }),
    memo: z.string(),
    status: z.enum(['sent', 'delivered', 'refused']).openapi({ description: 'sent until the gift-fabric consumer applies it' }),
    refusal_reason: z.string().nullable().openapi({ description: 'Why a refused gift moved nothing' }),
    created_at: Timestamp,
    finished_at: Timestamp.nullable(),
  })
  .openapi('Gift');
const SendGiftBody = z
  .strictObject({ team_id: Uuid, recipient_id: Uuid, amount: BaseUnits, memo: Text(280).default('') })
  .openapi('SendGift', {
    example: {
      team_id: '00000000-0000-4000-8000-0000000d3a00',
      recipient_id: '0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f',
      amount: '25',
      memo: 'thanks',
    },
  });
const FeedQuery = z.strictObject({ team_id: Uuid, cursor: CursorParam.optional(), limit: PageLimit });

const send = securedRoute('gift.send', {
  method: 'post',
  path: '/',
  tags: ['gifts'],
  summary: 'Gift some of one’s own credits to another member of the team; the same Idempotency-Key and body give the same gift back',
  request: { headers: IdempotencyHeader, body: jsonBody(SendGiftBody, 'The gift') },
  responses: {
    201: jsonResponse(Gift, 'The gift, sent (also for a replay of the same request: header Idempotent-Replayed: true)'),
    ...errorResponses(404, 422),
  },
});
const feed = securedRoute('wallet.read', {
  method: 'get',
  path: '/',
  tags: ['gifts'],
  summary: "The team's gifts, newest first, in cursor pages",
  request: { query: FeedQuery },
  responses: {
    200: jsonResponse(
      z.object({ items: z.array(Gift), next_cursor: z.string().nullable().openapi({ description: 'null on the last page' }) }),
      'A page of gifts',
    ),
    ...errorResponses(400, 404),
  },
});

/** SHA-256 (hex) of what identifies a gift request: a key replayed with another body is told apart by it. */
async function hashGiftRequest(body: z.infer<typeof SendGiftBody>): Promise<string> {
  const canonical = JSON.stringify([body.team_id, body.recipient_id, body.amount, body.memo]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The sentence a person can act on for each refusal of app.send_gift. */
const refusals = {
  insufficient_credits: () =>
    new ApiError(
      422,
      'insufficient_credits',
      'You hold fewer available credits than this gift (your gifts not yet delivered count as spent); see GET /api/teams/{teamId}/wallet/balances.',
    ),
  own_gift: () => new ApiError(422, 'own_gift', 'A gift goes to another member of the team, not to yourself; pick another recipient.'),
  recipient_not_member: () =>
    new ApiError(
      422,
      'recipient_not_member',
      'The recipient is not a member of this team; gifts go to members only (GET /api/teams/{teamId}/members).',
    ),
  invalid_amount: () => new ApiError(422, 'invalid_amount', 'The amount must be a positive whole number of base units.'),
} as const;

export const giftRoutes = createRouter()
  .openapi(send, async (c) => {
    const { 'idempotency-key': idempotencyKey } = c.req.valid('header');
    const body = c.req.valid('json');
    if (c.var.principal.kind !== 'user') {
      throw forbidden('gift_needs_a_person', 'A gift is sent by a person from their own credits, not with an access key; sign in.');
    }
    const requestHash = await hashGiftRequest(body);
    const { gift, replayed } = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, body.team_id);
      await requireGiftFabric(c, body.team_id);
      await requireTeamCapability(tx, body.team_id, 'gift.send');
      let recorded;
      try {
        recorded = await sendGift(tx, {
          teamId: body.team_id,
          recipientId: body.recipient_id,
          amount: body.amount,
          memo: body.memo,
          idempotencyKey,
          requestHash,
        });
      } catch (error) {
        const refusal = giftRefusalOf(error);
        throw refusal ? refusals[refusal]() : error;
      }
      if (recorded.request_hash !== requestHash) {
        throw new ApiError(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different gift; send a new key for a new gift, or the same body to get the first one back.',
        );
      }
      return { gift: (await findGift(tx, recorded.gift_id))!, replayed: recorded.replayed };
    });
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(gift, 201);
  })
  .openapi(feed, async (c) => {
    const { team_id: teamId, cursor, limit } = c.req.valid('query');
    const page = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await requireGiftFabric(c, teamId);
      await requireTeamCapability(tx, teamId, 'wallet.read');
      return pageOf(await listTeamGifts(tx, teamId, cursor ?? null, limit), limit);
    });
    return c.json(page, 200);
  });

// Inbound partner webhooks: POST /api/embassy/{partner}/webhooks, authenticated by a Standard Webhooks
// signature with the partner's secret (EMBASSY_WEBHOOK_SECRET_<PARTNER>, from the configuration only). A
// verified webhook is stored with its answer and, if accepted, an `embassy.webhook_received` outbox event, in
// one transaction; the Embassy consumer does the work. A replayed webhook id gets the first answer again.
// Nothing is written for a webhook that fails verification: its sender is unknown.
import { z } from '@hono/zod-openapi';
import type { Config } from '../../_shared/config.ts';
import { transactionLimits, withServiceRole } from '../../_shared/db.ts';
import { partnerEventSchema, isPartner, teamOf, type Partner } from '../../_shared/embassy/partner-events.ts';
import { parseSecrets, refusalMessages, secretVariableOf, verifyWebhook } from '../../_shared/embassy/signatures.ts';
import { ApiError, errorBody, notFound } from '../../_shared/errors.ts';
import { enqueueEvent } from '../../_shared/outbox.ts';
import { createRouter, errorResponses, jsonResponse, signedWebhookRoute, Uuid } from '../core/route.ts';
import { findEmbassy, findFirstAnswer, insertDelivery, type NewDelivery } from './webhooks.queries.ts';

const WEBHOOK_ID = /^[\x21-\x7E]{1,200}$/;

const PartnerPath = z.strictObject({
  partner: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,39}$/, { message: 'must be a partner name such as energy-union' })
    .openapi({ param: { name: 'partner', in: 'path' }, example: 'energy-union' }),
});
const Accepted = z.object({ delivery_id: Uuid, webhook_id: z.string(), status: z.literal('accepted') }).openapi('EmbassyWebhookAccepted');

const receiveWebhook = signedWebhookRoute({
  method: 'post',
  path: '/{partner}/webhooks',
  tags: ['embassy'],
  summary: 'Receive a partner webhook (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature over the raw body)',
  description:
    'The body is the partner event `{ type, timestamp, data }` as raw JSON bytes; the schemas per partner and type are in ' +
    'functions/_shared/embassy/partner-events.ts. 202: accepted (applied by the Embassy consumer); 422: stored but not ' +
    'applicable (unknown type, payload off its schema); a replayed webhook-id gets the first answer again.',
  request: { params: PartnerPath },
  responses: {
    202: jsonResponse(Accepted, 'Accepted: the Embassy consumer applies it'),
    ...errorResponses(400, 403, 404, 422, 503),
  },
});

/** Parsed secrets per configuration value: parsing is cheap, but every webhook would repeat it. */
const secretCache = new WeakMap<Config, Map<Partner, ReturnType<typeof parseSecrets>>>();
function secretsOf(config: Config, partner: Partner) {
  let perPartner = secretCache.get(config);
  if (!perPartner) secretCache.set(config, (perPartner = new Map()));
  let secrets = perPartner.get(partner);
  if (!secrets) {
    try {
      secrets = parseSecrets((config as unknown as Record<string, string | undefined>)[secretVariableOf(partner)]);
    } catch {
      throw new ApiError(
        503,
        'partner_secret_invalid',
        `${secretVariableOf(partner)} is not a valid webhook secret; the operator must fix it.`,
      );
    }
    perPartner.set(partner, secrets);
  }
  return secrets;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The body as JSON, or null when it is not UTF-8 JSON. */
function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

const webhookRouter = createRouter();
webhookRouter
  // counts every answer by partner and outcome (the Embassy dashboard): refusals carry their error code
  .use('/:partner/webhooks', async (c, next) => {
    await next();
    const partner = c.req.param('partner');
    const outcome = c.var.errorCode ?? (c.res.headers.get('webhook-replayed') === 'true' ? 'replayed' : 'accepted');
    c.var.deps.metrics?.embassyWebhooks.inc({ partner: partner && isPartner(partner) ? partner : 'unknown', outcome });
  });

export const embassyWebhookRoutes = webhookRouter.openapi(receiveWebhook, async (c) => {
  const { partner } = c.req.valid('param');
  const { config, sql } = c.var.deps;
  if (!isPartner(partner)) throw notFound('partner_unknown', `There is no Embassy partner named "${partner}".`);
  const secrets = secretsOf(config, partner);
  if (secrets.length === 0) {
    throw new ApiError(
      503,
      'partner_not_configured',
      `This gateway has no webhook secret for ${partner} (${secretVariableOf(partner)}); retry later.`,
    );
  }

  // the raw bytes, exactly as signed: nothing may parse or re-encode the body before the signature is checked
  const body = new Uint8Array(await c.req.arrayBuffer());
  const headers = {
    'webhook-id': c.req.header('webhook-id'),
    'webhook-timestamp': c.req.header('webhook-timestamp'),
    'webhook-signature': c.req.header('webhook-signature'),
  };
  const verification = verifyWebhook(secrets, body, headers);
  if (!verification.ok) throw new ApiError(401, verification.refusal, refusalMessages[verification.refusal]);
  const webhookId = headers['webhook-id']!;
  if (!WEBHOOK_ID.test(webhookId)) throw new ApiError(400, 'webhook_id_invalid', 'webhook-id must be 1–200 printable ASCII characters.');
  const event = parseJson(body);
  if (event === undefined || event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new ApiError(400, 'webhook_body_not_json', 'The webhook body must be a JSON object { type, timestamp, data }.');
  }
  const type = (event as { type?: unknown }).type;
  const eventType = typeof type === 'string' && type.length > 0 && type.length <= 100 ? type : '(missing)';

  const requestId = c.var.requestId;
  const answer = await withServiceRole(
    sql,
    async (tx) => {
      const embassy = await findEmbassy(tx, partner);
      if (!embassy) throw notFound('partner_unknown', `There is no Embassy partner named "${partner}".`);
      if (embassy.status !== 'active') {
        throw new ApiError(
          403,
          'partner_inactive',
          `The Embassy of ${partner} is ${embassy.status}; the platform accepts none of its webhooks now.`,
        );
      }
      const id = crypto.randomUUID();
      const schema = embassy.inbound_event_types.includes(eventType) ? partnerEventSchema(partner, eventType) : undefined;
      const checked = schema?.safeParse(event);
      const delivery: NewDelivery = {
        id,
        partner,
        webhookId,
        eventType,
        teamId: teamOf(event),
        payload: event,
        signatureOutcome: verification.outcome,
        ...(!schema
          ? {
              status: 'unknown_type',
              answerStatus: 422,
              answerBody: errorBody(
                'webhook_type_unknown',
                `${partner} does not send events of type "${eventType}" to this platform; it was stored, not applied.`,
                requestId,
              ),
            }
          : !checked?.success
            ? {
                status: 'invalid_payload',
                answerStatus: 422,
                answerBody: errorBody(
                  'webhook_payload_invalid',
                  `The ${eventType} payload does not match its schema (${checked?.error.issues
                    .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
                    .slice(0, 3)
                    .join('; ')}); it was stored, not applied.`,
                  requestId,
                ),
              }
            : { status: 'accepted', answerStatus: 202, answerBody: { delivery_id: id, webhook_id: webhookId, status: 'accepted' } }),
      };
      if (!(await insertDelivery(tx, delivery))) {
        const first = await findFirstAnswer(tx, partner, webhookId);
        return { ...first!, replayed: true };
      }
      if (delivery.status === 'accepted') {
        await enqueueEvent(tx, {
          type: 'embassy.webhook_received',
          aggregateId: id,
          payload: { delivery_id: id, partner, webhook_id: webhookId, event_type: eventType, team_id: delivery.teamId },
          correlationId: requestId,
        });
      }
      return { status: delivery.answerStatus, body: delivery.answerBody, replayed: false };
    },
    transactionLimits(config),
  );
  if (typeof answer.body === 'object' && answer.body && 'error' in answer.body) {
    c.set('errorCode', (answer.body as { error: { code: string } }).error.code);
  }
  // the stored answer, whatever its status: typed as the 202 only because the route's types know one body per status
  return c.json(answer.body as z.infer<typeof Accepted>, answer.status as 202, { 'webhook-replayed': String(answer.replayed) });
});

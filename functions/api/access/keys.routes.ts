// Access keys of a team, for its agents and integrations: create (the key is shown once, in this answer only),
// list, rotate (a new key for the same principal; the old one lives on for an overlap, or is revoked at once)
// and revoke. Every change is audited by the database (migration 20261204000100).
import { z } from '@hono/zod-openapi';
import { generateAccessKey } from '../../_shared/access-keys.ts';
import { badRequest, conflict, notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, Name, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import {
  createServicePrincipal,
  findBundle,
  findKey,
  findPrincipal,
  insertKey,
  listTeamKeys,
  revokeKey,
  rotateKey,
} from './keys.queries.ts';

const MAX_KEY_DAYS = 365;
const DAY_MS = 86_400_000;

const PrincipalKind = z.enum(['agent', 'integration']);
const AccessKey = z
  .object({
    id: Uuid,
    name: z.string(),
    team_id: Uuid,
    bundle: z.string(),
    environment: z.string(),
    display_prefix: z.string().openapi({ description: 'The start of the key, to tell keys apart', example: 'mdao_prod_Ab3xY9' }),
    principal: z.object({ id: Uuid, kind: PrincipalKind, name: z.string() }),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    expires_at: Timestamp,
    revoked_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable().openapi({ description: 'Updated at most once a minute' }),
    rotated_from: Uuid.nullable(),
  })
  .openapi('AccessKey');
const CreatedKey = z
  .object({
    key: z.string().openapi({ description: 'The key itself: shown this once, never again; store it in your secret store' }),
    access_key: AccessKey,
  })
  .openapi('CreatedAccessKey');

const ExpiresInDays = z
  .number({ message: 'must be a whole number of days' })
  .int({ message: 'must be a whole number of days' })
  .min(1, { message: 'must be at least 1 day' })
  .max(MAX_KEY_DAYS, { message: `must be at most ${MAX_KEY_DAYS} days: keys are rotated at least yearly` });

const CreateKeyBody = z
  .strictObject({
    name: Name(80),
    bundle: z.string().regex(/^[a-z][a-z0-9-]*$/, { message: 'must be a key bundle name such as agent or read-only' }),
    expires_in_days: ExpiresInDays,
    principal: z.union([
      z.strictObject({ id: Uuid }).openapi({ description: 'Another key for an existing agent or integration of the team' }),
      z.strictObject({ kind: PrincipalKind, name: Name(80) }).openapi({ description: 'A new agent or integration' }),
    ]),
  })
  .openapi('CreateAccessKey', {
    example: { name: 'summarizer worker', bundle: 'agent', expires_in_days: 90, principal: { kind: 'agent', name: 'Summarizer' } },
  });
const RotateKeyBody = z
  .strictObject({
    expires_in_days: ExpiresInDays,
    overlap_seconds: z
      .number()
      .int({ message: 'must be a whole number of seconds' })
      .min(0, { message: 'must be 0 (revoke the old key now) or more' })
      .max(30 * 86_400, { message: 'must be at most 30 days' })
      .default(86_400)
      .openapi({ description: 'How long the old key keeps working (default a day; 0 revokes it now)' }),
  })
  .openapi('RotateAccessKey', { example: { expires_in_days: 90, overlap_seconds: 3600 } });
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });
const KeyPath = TeamPath.extend({ keyId: Uuid.openapi({ param: { name: 'keyId', in: 'path' } }) });

const createKey = securedRoute('key.manage', {
  method: 'post',
  path: '/teams/{teamId}/keys',
  tags: ['access keys'],
  summary: 'Create an access key for an agent or integration of the team (the key is in this answer only)',
  request: { params: TeamPath, body: jsonBody(CreateKeyBody, 'The key to create') },
  responses: { 201: jsonResponse(CreatedKey, 'The key, once'), ...errorResponses(404) },
});
const listKeys = securedRoute('key.manage', {
  method: 'get',
  path: '/teams/{teamId}/keys',
  tags: ['access keys'],
  summary: "The team's access keys, newest first (never the keys themselves)",
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(AccessKey) }), 'The keys'), ...errorResponses(400, 404) },
});
const rotate = securedRoute('key.manage', {
  method: 'post',
  path: '/teams/{teamId}/keys/{keyId}/rotate',
  tags: ['access keys'],
  summary: 'Replace a key: a new key for the same principal and bundle; the old one works on for the overlap',
  request: { params: KeyPath, body: jsonBody(RotateKeyBody, 'The new key’s lifetime and the overlap') },
  responses: { 201: jsonResponse(CreatedKey, 'The new key, once'), ...errorResponses(404, 409) },
});
const revoke = securedRoute('key.manage', {
  method: 'post',
  path: '/teams/{teamId}/keys/{keyId}/revoke',
  tags: ['access keys'],
  summary: 'Revoke a key: refused by every gateway instance within 5 seconds',
  request: { params: KeyPath },
  responses: { 200: jsonResponse(AccessKey, 'The revoked key'), ...errorResponses(400, 404, 409) },
});

const keyNotFound = () =>
  notFound('key_not_found', "No access key with this id in this team; list the team's keys with GET /api/teams/{teamId}/keys.");
const expiresAt = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

export const keyRoutes = createRouter()
  .openapi(createKey, async (c) => {
    const { teamId } = c.req.valid('param');
    const body = c.req.valid('json');
    const environment = c.var.deps.config.APP_ENV;
    const made = await generateAccessKey(environment);
    const accessKey = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      const bundle = await findBundle(tx, body.bundle);
      if (bundle?.granted_to !== 'key') {
        throw badRequest(
          'bundle_not_for_keys',
          `${body.bundle} is ${bundle ? 'a bundle for team roles' : 'not a bundle'}; keys take a key bundle (GET /api/bundles lists them).`,
        );
      }
      let principalId: string;
      if ('id' in body.principal) {
        const principal = await findPrincipal(tx, teamId, body.principal.id);
        if (!principal)
          throw notFound(
            'principal_not_found',
            'No agent or integration with this id in this team; create the key with principal {kind, name} instead.',
          );
        principalId = principal.id;
      } else {
        principalId = await createServicePrincipal(tx, { teamId, kind: body.principal.kind, name: body.principal.name });
      }
      const keyId = await insertKey(tx, {
        teamId,
        principalId,
        bundle: body.bundle,
        name: body.name,
        environment,
        hash: made.hash,
        displayPrefix: made.displayPrefix,
        expiresAt: expiresAt(body.expires_in_days),
      });
      return (await findKey(tx, keyId))!;
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ key: made.key, access_key: accessKey }, 201);
  })
  .openapi(listKeys, async (c) => {
    const { teamId } = c.req.valid('param');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listTeamKeys(tx, teamId);
    });
    return c.json({ items }, 200);
  })
  .openapi(rotate, async (c) => {
    const { teamId, keyId } = c.req.valid('param');
    const { expires_in_days: days, overlap_seconds: overlapSeconds } = c.req.valid('json');
    const made = await generateAccessKey(c.var.deps.config.APP_ENV);
    const accessKey = await inRequestTransaction(c, async (tx) => {
      const current = await findKey(tx, keyId);
      if (!current || current.team_id !== teamId) throw keyNotFound();
      const newKeyId = await rotateKey(tx, {
        oldKeyId: keyId,
        hash: made.hash,
        displayPrefix: made.displayPrefix,
        expiresAt: expiresAt(days),
        overlapSeconds,
      });
      if (!newKeyId)
        throw conflict('key_not_live', 'Only a live key can be rotated; this one is revoked or expired — create a new key instead.');
      return (await findKey(tx, newKeyId))!;
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ key: made.key, access_key: accessKey }, 201);
  })
  .openapi(revoke, async (c) => {
    const { teamId, keyId } = c.req.valid('param');
    const revoked = await inRequestTransaction(c, async (tx) => {
      const current = await findKey(tx, keyId);
      if (!current || current.team_id !== teamId) throw keyNotFound();
      if (current.revoked_at) throw conflict('key_already_revoked', 'This access key is already revoked.');
      await revokeKey(tx, keyId);
      return (await findKey(tx, keyId))!;
    });
    return c.json(revoked, 200);
  });

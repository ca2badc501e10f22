// Feature flags over HTTP: every caller reads its own evaluations (what the web's OpenFeature provider
// fetches); platform admins (flag.manage) read the definitions and change them. A change reaches every
// gateway and worker through NOTIFY within about a second (functions/_shared/flags/store.ts).
import { z } from '@hono/zod-openapi';
import { conflict } from '../../_shared/errors.ts';
import { FLAG_KEY, FlagDefinitionSchema } from '../../_shared/flags/definition.ts';
import { loadFlags } from '../../_shared/flags/store.ts';
import { inRequestTransaction } from '../core/context.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, securedRoute, Timestamp, Uuid } from '../core/route.ts';
import { putFlag } from './flags.queries.ts';

const FlagValue = z.union([z.boolean(), z.string()]);
const Evaluations = z
  .object({
    environment: z.string(),
    flags: z.record(
      z.string(),
      z.object({ value: FlagValue, reason: z.enum(['DISABLED', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT']), version: z.number().int() }),
    ),
  })
  .openapi('FlagEvaluations');
const StoredFlag = z
  .object({
    key: z.string(),
    description: z.string(),
    kind: z.enum(['boolean', 'variant']),
    enabled: z.boolean(),
    variants: z.array(z.string()),
    default_value: FlagValue,
    rules: z.array(z.record(z.string(), z.unknown())),
    version: z.number().int(),
    updated_at: Timestamp,
    updated_by: Uuid.nullable(),
  })
  .openapi('FeatureFlag');
const PutFlagBody = z
  .object({
    flag: FlagDefinitionSchema,
    expected_version: z
      .number()
      .int()
      .min(1)
      .nullable()
      .default(null)
      .openapi({ description: 'The version the change was made on: refused with 409 if the flag has moved on (null: any)' }),
  })
  .strict()
  .openapi('PutFeatureFlag', {
    example: {
      flag: { kind: 'boolean', enabled: true, default_value: false, rules: [{ percentage: 10, value: true }] },
      expected_version: 3,
    },
  });
const KeyPath = z.strictObject({
  key: z
    .string()
    .max(64)
    .regex(FLAG_KEY, { message: 'must be a flag key such as agents or city.announcement' })
    .openapi({ param: { name: 'key', in: 'path' } }),
});

const myFlags = securedRoute('self.read', {
  method: 'get',
  path: '/flags',
  tags: ['flags'],
  summary: 'Every flag evaluated for me (a person: my teams; a key: its team)',
  responses: { 200: jsonResponse(Evaluations, 'The evaluations') },
});
const definitions = securedRoute('flag.manage', {
  method: 'get',
  path: '/flags/definitions',
  tags: ['flags'],
  summary: 'The flags with their rules (platform admins)',
  responses: { 200: jsonResponse(z.object({ items: z.array(StoredFlag) }), 'The flags') },
});
const put = securedRoute('flag.manage', {
  method: 'put',
  path: '/flags/definitions/{key}',
  tags: ['flags'],
  summary: 'Create or change a flag: audited, live everywhere within about a second (platform admins)',
  request: { params: KeyPath, body: jsonBody(PutFlagBody, 'The whole flag') },
  responses: { 200: jsonResponse(z.object({ key: z.string(), version: z.number().int() }), 'The new version'), ...errorResponses(409) },
});

export const flagRoutes = createRouter()
  .openapi(myFlags, async (c) => {
    const { principal, deps } = c.var;
    await deps.flags.ready();
    const teamIds = principal.kind === 'key' ? [principal.teamId] : [...(await deps.capabilities.user(principal.id)).keys()];
    const flags: z.infer<typeof Evaluations>['flags'] = {};
    for (const [key, flag] of deps.flags.flags()) {
      const evaluation = deps.flags.evaluate(key, { userId: principal.id, teamIds })!;
      flags[key] = { value: evaluation.value, reason: evaluation.reason, version: flag.version };
    }
    return c.json({ environment: deps.config.APP_ENV, flags }, 200);
  })
  .openapi(definitions, async (c) => {
    // from the table, not the in-memory copy: right after a change the copy may not have heard its NOTIFY yet
    const items = [...(await loadFlags(c.var.deps.sql)).values()].sort((a, b) => a.key.localeCompare(b.key));
    return c.json({ items }, 200);
  })
  .openapi(put, async (c) => {
    const { key } = c.req.valid('param');
    const body = c.req.valid('json');
    const version = await inRequestTransaction(c, (tx) => putFlag(tx, key, body.flag, body.expected_version, c.var.requestId));
    if (version === null) {
      throw conflict(
        'flag_version_conflict',
        `${key} changed since version ${body.expected_version}; reload it (GET /api/flags/definitions) and apply your change again.`,
      );
    }
    return c.json({ key, version }, 200);
  });

// What a feature flag is, as stored in public.feature_flags (migration 20261205000600) and as the admin API
// takes it. One schema for the gateway's routes, the flag store and the CLI.
import { z } from 'zod';

export const FLAG_KEY = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a UUID');

/** A targeting rule: every condition it names must hold; the first rule that matches serves its value. */
export const FlagRuleSchema = z
  .object({
    environments: z
      .array(z.enum(['local', 'test', 'dev', 'staging', 'prod']))
      .min(1)
      .max(5)
      .optional(),
    teams: z.array(uuid).min(1).max(500).optional(),
    users: z.array(uuid).min(1).max(1000).optional(),
    /** Users whose rollout bucket (1..100, stable per flag and user) is at most this; needs a user. */
    percentage: z.number().int().min(0).max(100).optional(),
    value: z.union([z.boolean(), z.string().min(1).max(64)]),
  })
  .strict();
export type FlagRule = z.infer<typeof FlagRuleSchema>;

export const FlagDefinitionSchema = z
  .object({
    description: z.string().max(500).default(''),
    kind: z.enum(['boolean', 'variant']),
    /** The kill switch: false serves default_value to everyone. */
    enabled: z.boolean(),
    variants: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/))
      .max(20)
      .default([]),
    default_value: z.union([z.boolean(), z.string().min(1).max(64)]),
    rules: z.array(FlagRuleSchema).max(50).default([]),
  })
  .strict()
  .superRefine((flag, ctx) => {
    const served = [flag.default_value, ...flag.rules.map((r) => r.value)];
    if (flag.kind === 'boolean') {
      if (flag.variants.length) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'a boolean flag has no variants' });
      if (served.some((v) => typeof v !== 'boolean')) {
        ctx.addIssue({ code: 'custom', path: ['rules'], message: 'a boolean flag serves true or false only' });
      }
    } else if (served.some((v) => typeof v !== 'string' || !flag.variants.includes(v))) {
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'a variant flag serves one of its variants only' });
    }
  });
export type FlagDefinition = z.infer<typeof FlagDefinitionSchema>;

export interface StoredFlag extends FlagDefinition {
  key: string;
  version: number;
  updated_at: string;
  updated_by: string | null;
}

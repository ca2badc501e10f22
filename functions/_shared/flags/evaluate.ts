// Evaluates a flag for one caller: the kill switch, then the rules in order, then the default. Pure: the
// gateway, the workers and the tests run exactly this.
import type { FlagDefinition, FlagRule } from './definition.ts';
import { rolloutBucket } from './murmur3.ts';

export interface FlagContext {
  environment: string;
  /** The person or the key's principal; percentage and user rules need it. */
  userId?: string;
  /** The caller's teams (a key: its one team). */
  teamIds?: readonly string[];
}

/** The OpenFeature reasons an evaluation gives. */
export type FlagReason = 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT';

export interface FlagEvaluation {
  value: boolean | string;
  reason: FlagReason;
  /** The index of the rule that served the value. */
  rule?: number;
}

function matches(key: string, rule: FlagRule, context: FlagContext): boolean {
  if (rule.environments && !rule.environments.includes(context.environment as never)) return false;
  if (rule.teams && !(context.teamIds ?? []).some((team) => rule.teams!.includes(team))) return false;
  if (rule.users && !(context.userId && rule.users.includes(context.userId))) return false;
  if (rule.percentage !== undefined) {
    if (!context.userId || rule.percentage === 0) return false;
    if (rolloutBucket(key, context.userId) > rule.percentage) return false;
  }
  return true;
}

export function evaluateFlag(key: string, flag: FlagDefinition, context: FlagContext): FlagEvaluation {
  if (!flag.enabled) return { value: flag.default_value, reason: 'DISABLED' };
  for (const [index, rule] of flag.rules.entries()) {
    if (matches(key, rule, context)) {
      return { value: rule.value, reason: rule.percentage !== undefined ? 'SPLIT' : 'TARGETING_MATCH', rule: index };
    }
  }
  return { value: flag.default_value, reason: 'DEFAULT' };
}

// Flag evaluation, pure: Unleash-compatible buckets (cases from Unleash's client specification, tests 03 and 10:
// gradual rollout by user id), rollouts that only ever add users as the percentage grows, the kill switch, and
// rules by environment, team and user in order.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FlagDefinitionSchema, type FlagDefinition } from '../../functions/_shared/flags/definition.ts';
import { evaluateFlag } from '../../functions/_shared/flags/evaluate.ts';
import { murmur3x86_32, rolloutBucket } from '../../functions/_shared/flags/murmur3.ts';

const flag = (overrides: Partial<FlagDefinition>): FlagDefinition =>
  FlagDefinitionSchema.parse({ kind: 'boolean', enabled: true, default_value: false, ...overrides });
const rollout = (percentage: number) => flag({ rules: [{ percentage, value: true }] });

describe('MurmurHash3 x86 32-bit', () => {
  it('matches the reference values', () => {
    // SMHasher's verification values for the empty input and common seeds
    expect(murmur3x86_32('', 0)).toBe(0);
    expect(murmur3x86_32('', 1)).toBe(0x514e28b7);
    expect(murmur3x86_32('', 0xffffffff)).toBe(0x81f16f39);
    // every tail length (1, 2, 3 bytes after the blocks) is exercised and stable
    expect(new Set(['a', 'ab', 'abc', 'abcd', 'abcde'].map((s) => murmur3x86_32(s))).size).toBe(5);
  });
});

describe('percentage rollouts bucket users as Unleash does', () => {
  // [groupId, userId, percentage, expected]: Unleash client-specification 03-gradual-rollout-user-id-strategy
  // and 10-flexible-rollout-strategy
  const cases: [string, string, number, boolean][] = [
    ['AB12A', '123', 100, true],
    ['AB12A', '122', 50, true],
    ['AB12A', '155', 50, false],
    ['AB12A', '122', 0, false],
    ['Feature.flexibleRollout.10', '174', 10, true],
    ['Feature.flexibleRollout.10', '499', 10, false],
    ['Feature.flexibleRollout.userId.55', '25', 55, true],
    ['Feature.flexibleRollout.sessionId.42', '147', 42, true],
  ];
  it.each(cases)('group %s, user %s at %i %% → %s', (group, user, percentage, expected) => {
    expect(evaluateFlag(group, rollout(percentage), { environment: 'test', userId: user }).value).toBe(expected);
  });

  it('a user who is in stays in as the percentage grows, and the share matches the percentage', () => {
    const users: string[] = Array.from({ length: 4000 }, () => randomUUID());
    let previous = new Set<string>();
    for (const percentage of [1, 5, 10, 25, 50, 75, 100]) {
      const inside = new Set(users.filter((u) => evaluateFlag('agents', rollout(percentage), { environment: 'prod', userId: u }).value));
      for (const user of previous) expect(inside.has(user)).toBe(true);
      expect(Math.abs(inside.size / users.length - percentage / 100)).toBeLessThan(0.04);
      previous = inside;
    }
    expect(previous.size).toBe(users.length);
    // buckets are per flag: another flag's 10 % is another set of users
    const a = users.filter((u) => rolloutBucket('agents', u) <= 10);
    const b = users.filter((u) => rolloutBucket('rwa', u) <= 10);
    expect(a.filter((u) => b.includes(u)).length).toBeLessThan(a.length / 2);
  });

  it('a rollout needs a user: without one the rule does not match', () => {
    expect(evaluateFlag('agents', rollout(100), { environment: 'prod' })).toEqual({ value: false, reason: 'DEFAULT' });
  });
});

describe('rules, the default and the kill switch', () => {
  const alice = randomUUID();
  const team = randomUUID();
  const definition = flag({
    rules: [
      { users: [alice], value: false },
      { environments: ['local', 'dev'], value: true },
      { teams: [team], value: true },
      { percentage: 100, value: true },
    ],
  });

  it('the first matching rule serves its value, with the reason', () => {
    expect(evaluateFlag('f', definition, { environment: 'dev', userId: alice })).toEqual({
      value: false,
      reason: 'TARGETING_MATCH',
      rule: 0,
    });
    expect(evaluateFlag('f', definition, { environment: 'dev' })).toEqual({ value: true, reason: 'TARGETING_MATCH', rule: 1 });
    expect(evaluateFlag('f', definition, { environment: 'prod', teamIds: [randomUUID(), team] })).toMatchObject({ value: true, rule: 2 });
    expect(evaluateFlag('f', definition, { environment: 'prod', userId: randomUUID() })).toEqual({ value: true, reason: 'SPLIT', rule: 3 });
    expect(evaluateFlag('f', definition, { environment: 'prod' })).toEqual({ value: false, reason: 'DEFAULT' });
  });

  it('the kill switch serves the default to everyone, whatever the rules say', () => {
    const killed = { ...definition, enabled: false };
    for (const context of [{ environment: 'dev' }, { environment: 'prod', userId: randomUUID(), teamIds: [team] }]) {
      expect(evaluateFlag('f', killed, context)).toEqual({ value: false, reason: 'DISABLED' });
    }
  });

  it('variant flags serve their variants; a definition serving anything else is refused', () => {
    const variants = FlagDefinitionSchema.parse({
      kind: 'variant',
      enabled: true,
      variants: ['blue', 'green'],
      default_value: 'blue',
      rules: [{ environments: ['staging'], value: 'green' }],
    });
    expect(evaluateFlag('theme', variants, { environment: 'staging' }).value).toBe('green');
    expect(evaluateFlag('theme', variants, { environment: 'prod' }).value).toBe('blue');
    const wrong = FlagDefinitionSchema.safeParse({ kind: 'variant', enabled: true, variants: ['blue'], default_value: 'red' });
    expect(wrong.success).toBe(false);
    expect(
      FlagDefinitionSchema.safeParse({ kind: 'boolean', enabled: true, default_value: false, rules: [{ value: 'yes' }] }).success,
    ).toBe(false);
    expect(
      FlagDefinitionSchema.safeParse({ kind: 'boolean', enabled: true, default_value: false, rules: [{ percentage: 101, value: true }] })
        .success,
    ).toBe(false);
  });
});

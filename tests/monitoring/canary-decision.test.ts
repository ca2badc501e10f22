// The canary verdict from a stable and a canary release's figures (scripts/lib/canary-decision.ts): promote
// within bounds, roll back on more 5xx or a slower p99, wait for traffic — but roll back at once a canary that
// fails most of what it serves.
import { describe, expect, it } from 'vitest';
import { decide, type ReleaseFigures } from '../../scripts/lib/canary-decision.ts';

const figures = (release: string, requests: number, errors: number, p99Seconds: number | null): ReleaseFigures => ({
  release,
  requests,
  errors,
  errorRatio: requests ? errors / requests : 0,
  p99Seconds,
});
const stable = figures('stable', 5000, 10, 0.12);

describe('the canary verdict', () => {
  it('promotes a canary within the error and latency bounds', () => {
    expect(decide(stable, figures('canary', 400, 2, 0.15)).decision).toBe('promote');
  });
  it('rolls back a canary failing more often than stable by more than a point', () => {
    const verdict = decide(stable, figures('canary', 400, 12, 0.1));
    expect(verdict.decision).toBe('rollback');
    expect(verdict.reasons.join()).toMatch(/canary 5xx ratio 3\.00 % exceeds stable's 0\.20 %/);
  });
  it('rolls back a canary whose p99 exceeds 1.5× stable’s (or 100 ms, whichever is higher)', () => {
    expect(decide(stable, figures('canary', 400, 0, 0.2)).decision).toBe('rollback');
    expect(decide(figures('stable', 5000, 0, 0.01), figures('canary', 400, 0, 0.09)).decision).toBe('promote');
  });
  it('waits for enough canary traffic, unless the canary already fails most requests', () => {
    expect(decide(stable, figures('canary', 20, 1, 0.1)).decision).toBe('wait');
    expect(decide(stable, figures('canary', 15, 15, 0.01)).decision).toBe('rollback');
  });
});

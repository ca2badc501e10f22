// The canary check: compares a canary release of the gateway with the stable one on the figures Prometheus holds
// (the `release` label of the gateway's request metrics, set from RELEASE) over a window — the share of 5xx
// answers and the p99 latency — and decides: promote, roll back, or wait for more traffic.
// scripts/canary.sh check and watch run it (through scripts/lib/canary-control.ts).

export interface ReleaseFigures {
  release: string;
  requests: number;
  errors: number;
  errorRatio: number;
  /** null when there were no requests to take a quantile of */
  p99Seconds: number | null;
}
export type Decision = 'promote' | 'rollback' | 'wait';
export interface Verdict {
  decision: Decision;
  stable: ReleaseFigures;
  canary: ReleaseFigures;
  reasons: string[];
}

export const THRESHOLDS = {
  /** Below this many canary requests in the window nothing is decided (unless it is already failing hard). */
  minRequests: 50,
  /** The canary may fail at most this much more often than stable (absolute, 0.01 = one point). */
  maxErrorRatioIncrease: 0.01,
  /** Its p99 may be at most this multiple of stable's… */
  maxP99Ratio: 1.5,
  /** …or this, whichever is higher (a fast stable release would make any jitter look like a regression). */
  p99FloorSeconds: 0.1,
};

async function query(prometheus: string, expr: string): Promise<Map<string, number>> {
  const response = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success' || !body.data) throw new Error(`Prometheus refused ${expr}: ${body.error ?? response.status}`);
  return new Map(body.data.result.map((r) => [r.metric.release ?? '', Number(r.value[1])]));
}

export async function readFigures(prometheus: string, releases: string[], window: string): Promise<ReleaseFigures[]> {
  const selector = `release=~"${releases.map((r) => r.replace(/[^A-Za-z0-9._-]/g, '')).join('|')}"`;
  const [requests, errors, p99] = await Promise.all([
    query(prometheus, `sum by (release) (increase(microdao_http_responses_total{${selector}}[${window}]))`),
    query(prometheus, `sum by (release) (increase(microdao_http_responses_total{${selector},status_class="5xx"}[${window}]))`),
    query(
      prometheus,
      `histogram_quantile(0.99, sum by (release, le) (rate(microdao_http_request_duration_seconds_bucket{${selector}}[${window}])))`,
    ),
  ]);
  return releases.map((release) => {
    const total = requests.get(release) ?? 0;
    const failed = errors.get(release) ?? 0;
    const quantile = p99.get(release);
    return {
      release,
      requests: total,
      errors: failed,
      // the two increase() extrapolate separately: the ratio can come out a hair over 1
      errorRatio: total > 0 ? Math.min(1, failed / total) : 0,
      p99Seconds: quantile === undefined || Number.isNaN(quantile) ? null : quantile,
    };
  });
}

export function decide(stable: ReleaseFigures, canary: ReleaseFigures, thresholds = THRESHOLDS): Verdict {
  const reasons: string[] = [];
  const errorLimit = stable.errorRatio + thresholds.maxErrorRatioIncrease;
  const failing = canary.errorRatio > errorLimit;
  if (canary.requests < thresholds.minRequests) {
    // a canary failing most of what it serves is rolled back without waiting for a full sample
    if (canary.errors >= 10 && canary.errorRatio > 0.5) {
      reasons.push(`${(canary.errorRatio * 100).toFixed(1)} % of the canary's first ${Math.round(canary.requests)} answers are 5xx`);
      return { decision: 'rollback', stable, canary, reasons };
    }
    reasons.push(`only ${Math.round(canary.requests)} canary requests in the window; at least ${thresholds.minRequests} are needed`);
    return { decision: 'wait', stable, canary, reasons };
  }
  if (failing) {
    reasons.push(
      `canary 5xx ratio ${(canary.errorRatio * 100).toFixed(2)} % exceeds stable's ${(stable.errorRatio * 100).toFixed(2)} % + ${thresholds.maxErrorRatioIncrease * 100} points`,
    );
  }
  if (canary.p99Seconds !== null) {
    const limit = Math.max((stable.p99Seconds ?? 0) * thresholds.maxP99Ratio, thresholds.p99FloorSeconds);
    if (canary.p99Seconds > limit)
      reasons.push(`canary p99 ${(canary.p99Seconds * 1000).toFixed(0)} ms exceeds ${(limit * 1000).toFixed(0)} ms`);
  }
  if (reasons.length) return { decision: 'rollback', stable, canary, reasons };
  reasons.push('error ratio and p99 within bounds of the stable release');
  return { decision: 'promote', stable, canary, reasons };
}

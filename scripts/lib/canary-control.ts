// The canary's moving parts that scripts/canary.sh drives:
//   ramp  --api URL --percent N                   sets the `api.canary` flag: N % of users (stable buckets) go to
//                                                 the canary function; 0 sends everyone back to stable
//   check --prometheus URL --stable R --canary R  one verdict from Prometheus, as JSON (--max-p99-ratio: the
//                                                 canary's p99 allowed as a multiple of stable's, default 1.5)
//   watch … --interval 30s --timeout 30m          verdicts until one is final: a rollback ramps the flag to 0 at
//                                                 once (exit 3); promote needs --promote-after verdicts in a row
//                                                 (exit 0); no verdict by the timeout exits 4
// Flag changes go through the gateway as the operator (MICRODAO_OPERATOR_TOKEN: a platform admin's token), so
// each is audited like a change in the admin console. Exit codes: 0 promote/done, 3 rolled back, 4 undecided,
// 2 bad arguments, 1 a server could not be read or written.
import { parseArgs } from 'node:util';
import { decide, readFigures, THRESHOLDS, type Verdict } from './canary-decision.ts';

export const CANARY_FLAG = 'api.canary';
const DURATION = /^(\d+)(ms|s|m|h)$/;

class UsageError extends Error {}

function milliseconds(text: string, name: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new UsageError(`--${name} must be a duration such as 30s or 10m, not '${text}'`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

async function gateway<T>(api: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Sets the canary flag to `percent` % of users; returns the flag's new version. Retries once on a concurrent change. */
export async function rampCanary(api: string, token: string, percent: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const listed = await gateway<{ items?: { key: string; version: number }[]; error?: { message: string } }>(
      api,
      token,
      'GET',
      '/api/flags/definitions',
    );
    if (listed.status !== 200) throw new Error(`reading the flags answered ${listed.status}: ${listed.body.error?.message ?? ''}`);
    const current = listed.body.items?.find((flag) => flag.key === CANARY_FLAG);
    const flag = {
      description: 'Users sent to the api-canary function (scripts/canary.sh)',
      kind: 'boolean',
      enabled: percent > 0,
      default_value: false,
      rules: percent > 0 ? [{ percentage: percent, value: true }] : [],
    };
    const put = await gateway<{ version?: number; error?: { code: string; message: string } }>(
      api,
      token,
      'PUT',
      `/api/flags/definitions/${CANARY_FLAG}`,
      { flag, expected_version: current?.version ?? null },
    );
    if (put.status === 200 && put.body.version !== undefined) return put.body.version;
    if (put.status === 409 && attempt === 0) continue;
    throw new Error(`setting ${CANARY_FLAG} answered ${put.status}: ${put.body.error?.message ?? ''}`);
  }
}

function summary(verdict: Verdict): string {
  const line = (f: Verdict['stable']) =>
    `${f.release}: ${Math.round(f.requests)} requests, ${(f.errorRatio * 100).toFixed(2)} % 5xx, p99 ${f.p99Seconds === null ? '-' : `${Math.round(f.p99Seconds * 1000)} ms`}`;
  return `${verdict.decision} (${line(verdict.stable)}; ${line(verdict.canary)}): ${verdict.reasons.join('; ')}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      percent: { type: 'string' },
      prometheus: { type: 'string' },
      stable: { type: 'string' },
      canary: { type: 'string' },
      window: { type: 'string', default: '10m' },
      interval: { type: 'string', default: '30s' },
      timeout: { type: 'string', default: '30m' },
      'promote-after': { type: 'string', default: '3' },
      'max-p99-ratio': { type: 'string', default: String(THRESHOLDS.maxP99Ratio) },
    },
  });
  const [command] = positionals;
  const need = (name: keyof typeof values): string => {
    const value = values[name];
    if (typeof value !== 'string' || !value) throw new UsageError(`${command} needs --${name}`);
    return value;
  };
  const token = () => {
    const value = process.env.MICRODAO_OPERATOR_TOKEN;
    if (!value)
      throw new UsageError('MICRODAO_OPERATOR_TOKEN is not set: a platform admin’s access token (flag changes are audited as them)');
    return value;
  };
  if (command === 'ramp') {
    const percent = Number(need('percent'));
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new UsageError('--percent must be a whole number from 0 to 100');
    const version = await rampCanary(need('api'), token(), percent);
    console.log(`canary: ${CANARY_FLAG} now sends ${percent} % of users to the canary (flag version ${version})`);
    return 0;
  }
  if (command !== 'check' && command !== 'watch') throw new UsageError('the command must be ramp, check or watch');
  const prometheus = need('prometheus');
  const releases = [need('stable'), need('canary')];
  const window = need('window');
  if (!/^\d+[smh]$/.test(window)) throw new UsageError(`--window must be a Prometheus duration such as 10m, not '${window}'`);
  const maxP99Ratio = Number(need('max-p99-ratio'));
  if (!(maxP99Ratio >= 1))
    throw new UsageError('--max-p99-ratio must be a number of at least 1 (the canary p99 allowed, as a multiple of stable’s)');
  const verdictNow = async () => {
    const [stable, canary] = await readFigures(prometheus, releases, window);
    return decide(stable!, canary!, { ...THRESHOLDS, maxP99Ratio });
  };
  if (command === 'check') {
    const verdict = await verdictNow();
    console.log(JSON.stringify(verdict, null, 2));
    return { promote: 0, rollback: 3, wait: 4 }[verdict.decision];
  }
  const api = need('api');
  const operator = token();
  const interval = milliseconds(need('interval'), 'interval');
  const deadline = Date.now() + milliseconds(need('timeout'), 'timeout');
  const promoteAfter = Number(need('promote-after'));
  if (!Number.isInteger(promoteAfter) || promoteAfter < 1)
    throw new UsageError('--promote-after must be a whole number of verdicts, at least 1');
  let promotes = 0;
  for (;;) {
    const verdict = await verdictNow();
    console.log(`canary: ${new Date().toISOString()} ${summary(verdict)}`);
    if (verdict.decision === 'rollback') {
      const version = await rampCanary(api, operator, 0);
      console.log(`canary: rolled back: ${CANARY_FLAG} sends nobody to the canary any more (flag version ${version})`);
      return 3;
    }
    promotes = verdict.decision === 'promote' ? promotes + 1 : 0;
    if (promotes >= promoteAfter) return 0;
    if (Date.now() + interval > deadline) {
      console.log('canary: no final verdict before the timeout; the flag is left as it is');
      return 4;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`canary: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}

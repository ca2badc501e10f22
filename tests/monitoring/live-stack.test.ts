// The observability of the running platform, end to end: the gateway (Deno, serve-local.ts), the outbox
// relay, the telemetry consumer, the NATS exporter and the Postgres exporter run as real processes on a fresh
// database and a private nats-server; Prometheus (Debian) scrapes them with monitoring/prometheus.yml and
// evaluates monitoring/rules. Then:
//  - one request id is followed from the HTTP request to the consumer's log line;
//  - every query of every Grafana panel and every rule expression runs on that Prometheus without error, and
//    every panel shows data unless it is listed below with the reason it cannot have any here.
// There is no Grafana server on this machine: the dashboards' queries are run the way Grafana would send them.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { testEnvironment } from '../api/helpers.ts';
import { createTestDatabase, loadSeed, seedIds, type TestDatabase } from '../harness/database.ts';
import { startDenoGateway } from '../harness/deno-gateway.ts';
import { startPrivateNats, type TestNats } from '../harness/nats.ts';
import { uniqueName } from '../harness/services.ts';
import { loadRules, panelQueries, withGrafanaVariables } from './definitions.ts';
import {
  fetchText,
  sampleValue,
  startAndWait,
  startPostgresExporter,
  startPrometheus,
  tempDir,
  type Exporter,
  type PrometheusServer,
  type Started,
} from './stack.ts';

/** Panels that cannot show data on this stack, and why. Every other panel must. */
/** Dashboards of services this stack does not run: their queries must still run, they may come back empty. */
const DASHBOARDS_WITHOUT_TRAFFIC_HERE: Record<string, string> = {
  'agents.json': 'no agent worker runs here (tests/agents/orchestrator.test.ts drives the agent metrics)',
  'storage.json': 'no file is uploaded here (tests/storage/files.test.ts checks the storage counters)',
  'embassy.json': 'no partner webhook and no Embassy consumer here (tests/embassy/outbound.test.ts and webhooks.test.ts drive them)',
  'governance.json': 'no governance scheduler runs here (tests/governance drives the scheduler)',
  'wallet.json':
    'no chain, wallet worker or gift consumer runs here (tests/wallet/payouts-chain.test.ts and tests/gifts/gift-fabric.test.ts check their counters on /metrics)',
};
const EMPTY_HERE: Record<string, string> = {
  'Server errors by route': 'the traffic below provokes no 5xx',
  'Publish failures': 'every publish to the private nats-server succeeds',
  'Consumer dead letters': 'every event is valid, so nothing is dead-lettered',
  'Standby replay lag': 'the test database has no standby',
};
/** Panels that need pg_stat_statements, which the shared server may not preload (pg_stat_statements_available says). */
const NEEDS_PG_STAT_STATEMENTS = new Set(['Slowest statements (mean)', 'Execution time share', 'Calls']);

const LIVE_TIMEOUT_MS = 180_000;
/** The gateway's per-user limit here: low enough that one user of the traffic below runs into it. */
const PER_KEY_LIMIT = 20;

describe('observability of the running platform', () => {
  const dir = tempDir('live-stack');
  const processes: Started[] = [];
  let database: TestDatabase;
  let nats: TestNats;
  let prometheus: PrometheusServer;
  let apiUrl: string;
  let natsExporterUrl: string;
  const streams = (() => {
    const name = uniqueName('live');
    return { NATS_STREAM_EVENTS: name.toUpperCase(), NATS_SUBJECT_PREFIX: name };
  })();
  const logOf = (name: string) => readFileSync(path.join(dir.path, `${name}.log`), 'utf8');

  beforeAll(async () => {
    [database, nats] = await Promise.all([createTestDatabase('live'), startPrivateNats()]);
    await loadSeed(database.sql);
    const [apiPort, relayPort, consumerPort, natsExporterPort] = await Promise.all(Array.from({ length: 4 }, () => ephemeralPort()));
    apiUrl = `http://127.0.0.1:${apiPort}`;
    natsExporterUrl = `http://127.0.0.1:${natsExporterPort}`;
    const environment = {
      // only what the programs need from this process: no developer .env, no stray variables
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
      ENV_FILE: '/nonexistent/.env',
      ...testEnvironment(database, { NATS_URL: nats.url, ...streams }),
      METRICS_HOST: '127.0.0.1',
      OUTBOX_RELAY_POLL_INTERVAL_MS: '200',
    };
    const node = (entry: string) => [process.execPath, ['--import', 'tsx', entry]] as const;
    const track = <T extends Started>(starting: Promise<T>) =>
      starting.then((p) => {
        processes.push(p);
        return p;
      });
    const start = (name: string, [program, args]: readonly [string, readonly string[]], env: Record<string, string>, ready: string) =>
      track(startAndWait(name, program, [...args], { env: { ...environment, ...env }, logDir: dir.path, ready, timeoutMs: 120_000 }));

    const exporters: Promise<Started | Exporter>[] = [
      track(
        startDenoGateway({
          env: { ...environment, RATE_LIMIT_PER_KEY: String(PER_KEY_LIMIT) },
          port: apiPort,
          logFile: path.join(dir.path, 'api.log'),
          readyPath: '/metrics',
          timeoutMs: 120_000,
        }),
      ),
      start(
        'outbox-relay',
        node('workers/outbox-relay/main.ts'),
        { METRICS_PORT: String(relayPort) },
        `http://127.0.0.1:${relayPort}/metrics`,
      ),
      start(
        'consumer-telemetry',
        node('workers/consumers/telemetry/main.ts'),
        { METRICS_PORT: String(consumerPort) },
        `http://127.0.0.1:${consumerPort}/metrics`,
      ),
      start(
        'nats-exporter',
        node('workers/nats-exporter/main.ts'),
        { NATS_MONITORING_URL: nats.monitoringUrl, NATS_EXPORTER_PORT: String(natsExporterPort) },
        `${natsExporterUrl}/metrics`,
      ),
      track(startPostgresExporter(database.url, dir.path)),
    ];
    const [, , , , postgresExporter] = await Promise.all(exporters);
    // Prometheus only scrapes targets it is given; it waits ~5 s before its first scrape, so start it last
    prometheus = await startPrometheus(dir.path, {
      gateway: `127.0.0.1:${apiPort}`,
      'outbox-relay': `127.0.0.1:${relayPort}`,
      consumers: `127.0.0.1:${consumerPort}`,
      'nats-jetstream': `127.0.0.1:${natsExporterPort}`,
      postgres: (postgresExporter as Exporter).url.replace('http://', ''),
      prometheus: '{self}',
    });
    processes.push(prometheus);
  }, LIVE_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await nats?.destroy();
    await database?.drop();
    dir.remove();
  }, 60_000);

  async function api<T>(method: string, route: string, options: { token?: string; body?: unknown; requestId?: string } = {}) {
    const response = await fetch(`${apiUrl}${route}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  it('follows one request id from the HTTP request through the outbox and NATS to the consumer log', async () => {
    const login = await api<{ access_token: string }>('POST', '/api/auth/dev-login', { body: { email: 'alice@demo.local' } });
    expect(login.status).toBe(200);
    const requestId = `live-${randomUUID()}`;
    const posted = await api<{ id: string }>('POST', '/api/messages', {
      token: login.body.access_token,
      requestId,
      body: { channel_id: seedIds.generalChannel, body: 'Observability says hello' },
    });
    expect(posted.status).toBe(201);

    // 1. the gateway's request log line
    const requestLine = logOf('api')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'request' && line.request_id === requestId);
    expect(requestLine).toMatchObject({ method: 'POST', status: 201, correlation_id: requestId });
    // 2. the outbox row the request wrote
    const [row] = await database.sql<{ id: string; correlation_id: string }[]>`
      select id, correlation_id from public.outbox_events where event_type = 'message.created' and aggregate_id = ${posted.body.id}`;
    expect(row?.correlation_id).toBe(requestId);
    // 3. the consumer's log line for that event (the relay carried the id in the NATS headers)
    const consumerLine = () =>
      logOf('consumer-telemetry')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.event_id === row!.id && line.correlation_id === requestId);
    await waitUntil('the consumer to log the event', () => consumerLine() !== undefined, { timeoutMs: 20_000 });
    expect(consumerLine()).toMatchObject({ event_type: 'message.created', consumer: expect.any(String) });
    // and the header itself, as stored in the stream
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const stored = await jsm.streams.getMessage(streams.NATS_STREAM_EVENTS, {
        last_by_subj: `${streams.NATS_SUBJECT_PREFIX}.message.created`,
      });
      expect(stored?.header.get(EVENT_HEADERS.id)).toBe(row!.id);
      expect(stored?.header.get(EVENT_HEADERS.correlationId)).toBe(requestId);
    } finally {
      await nc.close();
    }
  }, 60_000);

  it('runs every dashboard query and rule on Prometheus, and the panels show the traffic', async () => {
    const value = async (expr: string) => {
      const answer = await prometheus.query(expr);
      return answer.ok && answer.result[0]?.value ? Number(answer.result[0].value[1]) : undefined;
    };
    // every target scraped once before the traffic, so rates see it as an increase
    await waitUntil('Prometheus to scrape all six targets', async () => (await value('count(up == 1)')) === 6, {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    // traffic that each panel should see: successes, a 404 on a route template, an unknown route, a 401, a 429
    const { body: session } = await api<{ access_token: string }>('POST', '/api/auth/dev-login', { body: { email: 'bob@demo.local' } });
    const token = session.access_token;
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await api('POST', '/api/messages', { token, body: { channel_id: seedIds.generalChannel, body: `message ${i}` } })).status,
      ).toBe(201);
      expect((await api('GET', `/api/messages?channel_id=${seedIds.generalChannel}`, { token })).status).toBe(200);
    }
    expect((await api('PATCH', `/api/messages/${randomUUID()}`, { token, body: { body: 'nothing to edit' } })).status).toBe(404);
    expect((await api('GET', '/api/no/such/route')).status).toBe(404);
    expect((await api('GET', '/api/teams', { token: 'not-a-token' })).status).toBe(401);
    // one more user, past the per-user limit (the real limiter on the real Redis)
    const { body: eager } = await api<{ access_token: string }>('POST', '/api/auth/dev-login', { body: { email: 'eager@demo.local' } });
    const statuses: number[] = [];
    for (let i = 0; i <= PER_KEY_LIMIT; i += 1) statuses.push((await api('GET', '/api/teams', { token: eager.access_token })).status);
    expect(statuses).toEqual([...Array<number>(PER_KEY_LIMIT).fill(200), 429]);

    // the relay publishes, the consumer handles, and Prometheus has scraped that (its scrapes are 1 s apart)
    const expectations: [string, (v: number) => boolean][] = [
      ['sum(microdao_outbox_events_published_total)', (v) => v >= 4],
      ['sum(microdao_consumer_messages_processed_total)', (v) => v >= 4],
      ['sum(microdao_http_auth_failures_total)', (v) => v >= 1],
      ['sum(microdao_http_rate_limited_total{scope="key"})', (v) => v >= 1],
    ];
    const seen = new Map<string, number | undefined>();
    try {
      await waitUntil(
        'Prometheus to see the traffic',
        async () => {
          for (const [expr] of expectations) seen.set(expr, await value(expr));
          return expectations.every(([expr, ok]) => ok(seen.get(expr) ?? NaN));
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    } catch (error) {
      const targets = await (await fetch(`${prometheus.url}/api/v1/targets`)).json();
      throw new Error(`${(error as Error).message}; saw ${JSON.stringify([...seen])}; targets ${JSON.stringify(targets).slice(0, 3000)}`, {
        cause: error,
      });
    }
    // two more scrapes so every rate() window holds the traffic
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const titles = new Set(panelQueries().map((q) => q.panel));
    expect(
      [...Object.keys(EMPTY_HERE), ...NEEDS_PG_STAT_STATEMENTS].filter((title) => !titles.has(title)),
      'stale exceptions',
    ).toEqual([]);
    const statementsAvailable = (await value('min(pg_stat_statements_available)')) === 1;
    const variables = { environment: 'local', rateInterval: '1m' };
    const failures: string[] = [];
    const empty: string[] = [];
    for (const query of panelQueries()) {
      const where = `${query.dashboard} › ${query.panel} [${query.refId}]`;
      const answer = await prometheus.query(withGrafanaVariables(query.expr, variables));
      if (!answer.ok) failures.push(`${where}: ${answer.error}`);
      else if (
        answer.result.length === 0 &&
        !(query.panel in EMPTY_HERE) &&
        !(query.dashboard in DASHBOARDS_WITHOUT_TRAFFIC_HERE) &&
        !(NEEDS_PG_STAT_STATEMENTS.has(query.panel) && !statementsAvailable)
      ) {
        empty.push(`${where}: ${query.expr}`);
      }
    }
    // both lists at once; a panel without data that is right here gets its reason in EMPTY_HERE
    expect({ failures, empty }).toEqual({ failures: [], empty: [] });

    const rules = loadRules();
    for (const rule of rules) {
      const answer = await prometheus.query(rule.expr);
      if (!answer.ok) failures.push(`${rule.file} › ${rule.name}: ${answer.error}`);
    }
    expect(failures).toEqual([]);
    // Prometheus itself evaluated every rule without error
    const loaded = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const evaluated = loaded.data.groups.flatMap((g) => g.rules);
    expect(evaluated.map((r) => r.name).sort()).toEqual(rules.map((r) => r.name).sort());
    expect(evaluated.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);

    // the key series carry the traffic above
    expect(await value('sum(microdao_http_responses_total{status_class="2xx", route="/api/messages"})')).toBeGreaterThanOrEqual(6);
    expect(await value('sum(microdao_http_responses_total{route="unmatched", status_class="4xx"})')).toBeGreaterThanOrEqual(1);
    expect(await value('sum(microdao_http_responses_total{route="/api/messages/:messageId", status_class="4xx"})')).toBeGreaterThanOrEqual(
      1,
    );
    expect(await value('sum(microdao_http_auth_failures_total{reason="malformed"})')).toBeGreaterThanOrEqual(1);
    expect(await value('sum(microdao_outbox_events_published_total{event_type="message.created"})')).toBeGreaterThanOrEqual(4);
    expect(await value('max(microdao_outbox_backlog_events)')).toBe(0);
    expect(await value('sum(microdao_nats_stream_messages)')).toBeGreaterThanOrEqual(4);
    expect(await value('max(instance:pg_connections:sum)')).toBeGreaterThanOrEqual(1);
    expect(await value('max(instance:pg_replication_lag_seconds:max)')).toBe(0);
    expect(await value('max(environment:microdao_http_5xx_responses:ratio_rate5m)')).toBe(0);
    expect(await value('sum(rate(microdao_http_responses_total[1m]))')).toBeGreaterThan(0);
    expect(await value('sum(rate(microdao_outbox_events_published_total[1m]))')).toBeGreaterThan(0);
    expect(await value('sum(rate(microdao_consumer_messages_processed_total[1m]))')).toBeGreaterThan(0);
    expect(await value('environment:microdao_http_request_duration_seconds:p99_5m')).toBeGreaterThan(0);

    // and the exporter's own view agrees with the stream
    const scrape = await fetchText(`${natsExporterUrl}/metrics`);
    expect(sampleValue(scrape, 'microdao_nats_stream_messages', { stream: streams.NATS_STREAM_EVENTS })).toBeGreaterThanOrEqual(4);
  }, 90_000);
});

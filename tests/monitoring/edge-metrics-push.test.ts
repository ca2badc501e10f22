// The gateway's request metrics leaving the edge runtime, for real: the Edge Function entry (functions/api/
// index.ts) runs under Deno with EdgeRuntime.waitUntil, pushes OTLP/HTTP JSON after its responses, and the
// edge-metrics receiver (workers/edge-metrics) adds the pushes up and serves them under the names and labels
// the dashboards query. A recording proxy between them decodes each push; a receiver outage loses nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS } from '../../functions/_shared/metrics.ts';
import { ENVIRONMENT_ATTRIBUTE, OTLP_DELTA, type OtlpMetricsRequest } from '../../functions/_shared/otlp-metrics.ts';
import { startEdgeMetricsServer, type EdgeMetricsServer } from '../../workers/edge-metrics/server.ts';
import { testEnvironment } from '../api/helpers.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { startDenoGateway, type DenoGateway } from '../harness/deno-gateway.ts';

const TOKEN = 'edge-metrics-test-token-0123456789abcdefghijklmnop';
const STARTUP_TIMEOUT_MS = 90_000;

let database: TestDatabase;
let receiver: EdgeMetricsServer;
let gateway: DenoGateway;
let proxy: http.Server;
/** Every push the gateway sent, decoded; `receiverDown` makes the proxy answer 503 without forwarding. */
const pushes: { authorization?: string; contentType?: string; body: OtlpMetricsRequest }[] = [];
let receiverDown = false;

/** The value of one exposed series of the receiver, 0 while it does not exist. */
async function exposed(series: string): Promise<number> {
  const text = await (await fetch(`${receiver.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function settle(series: string): Promise<number> {
  // the pushes of earlier requests may still be on their way: wait until the value holds for a second
  let last = -1;
  for (let stable = 0; stable < 5;) {
    const value = await exposed(series);
    stable = value === last ? stable + 1 : 0;
    last = value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return last;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; gateway output:\n${gateway.output().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const HEALTH = 'microdao_http_responses_total{method="GET",route="/api/health",status_class="2xx"}';
const UNMATCHED = 'microdao_http_responses_total{method="GET",route="unmatched",status_class="4xx"}';

beforeAll(async () => {
  database = await createTestDatabase('edge_metrics');
  receiver = await startEdgeMetricsServer({ port: 0, token: TOKEN, environment: 'test' });
  proxy = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      pushes.push({ authorization: request.headers.authorization, contentType: request.headers['content-type'], body: JSON.parse(text) });
      if (receiverDown) return void response.writeHead(503).end('receiver down');
      fetch(`${receiver.url}${request.url}`, {
        method: 'POST',
        headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? '' },
        body: text,
      }).then(
        async (answer) => response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text()),
        () => response.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1/metrics`;
  gateway = await startDenoGateway({
    entry: 'edge-function',
    env: testEnvironment(database, { LOG_LEVEL: 'info', METRICS_PUSH_URL: proxyUrl, METRICS_PUSH_TOKEN: TOKEN }),
    timeoutMs: STARTUP_TIMEOUT_MS,
  });
}, STARTUP_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await gateway?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  await receiver?.close();
  await database?.drop();
});

describe('gateway request metrics pushed from the Edge Function', () => {
  it('pushes each request inside EdgeRuntime.waitUntil, and the receiver serves the totals the dashboards query', async () => {
    const before = { health: await settle(HEALTH), unmatched: await exposed(UNMATCHED) };
    for (let i = 0; i < 3; i += 1) expect((await fetch(`${gateway.url}/api/health`)).status).toBe(200);
    for (let i = 0; i < 2; i += 1) expect((await fetch(`${gateway.url}/api/no-such-route`)).status).toBe(404);
    await eventually(
      'the five requests to reach the receiver',
      async () => (await exposed(HEALTH)) === before.health + 3 && (await exposed(UNMATCHED)) === before.unmatched + 2,
    );

    const text = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(text).toMatch(/^# TYPE microdao_http_responses_total counter$/m);
    expect(text).toMatch(/^microdao_http_request_duration_seconds_bucket\{method="GET",route="\/api\/health",le="\+Inf"\} \d+$/m);
    expect(await exposed('microdao_http_request_duration_seconds_count{method="GET",route="/api/health"}')).toBe(before.health + 3);
    expect(gateway.output()).toContain('edge-runtime: waitUntil settled');
  });

  it('sends OTLP/HTTP JSON with delta temporality, the environment, and the route, method and status class of each series', async () => {
    expect(pushes.length).toBeGreaterThan(0);
    const push = pushes.at(-1)!;
    expect(push.authorization).toBe(`Bearer ${TOKEN}`);
    expect(push.contentType).toBe('application/json');
    const [resourceMetrics] = push.body.resourceMetrics!;
    const resource = Object.fromEntries(resourceMetrics!.resource!.attributes!.map((a) => [a.key, a.value.stringValue]));
    expect(resource).toMatchObject({ 'service.name': 'microdao-api', [ENVIRONMENT_ATTRIBUTE]: 'test' });
    expect(resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);

    const metrics = pushes.flatMap((p) => p.body.resourceMetrics!.flatMap((r) => r.scopeMetrics!.flatMap((s) => s.metrics!)));
    const responses = metrics.filter((m) => m.name === 'microdao_http_responses_total');
    expect(responses.length).toBeGreaterThan(0);
    for (const metric of responses) {
      expect(metric.sum).toMatchObject({ aggregationTemporality: OTLP_DELTA, isMonotonic: true });
      for (const point of metric.sum!.dataPoints!) {
        expect(point.attributes!.map((a) => a.key)).toEqual(['method', 'route', 'status_class']);
        expect(BigInt(point.timeUnixNano!)).toBeGreaterThanOrEqual(BigInt(point.startTimeUnixNano!));
      }
    }
    const routes = responses.flatMap((m) => m.sum!.dataPoints!.map((p) => p.attributes!.find((a) => a.key === 'route')!.value.stringValue));
    expect(routes).toEqual(expect.arrayContaining(['/api/health', 'unmatched']));
    const duration = metrics.find((m) => m.name === 'microdao_http_request_duration_seconds');
    expect(duration?.unit).toBe('s');
    expect(duration?.histogram?.aggregationTemporality).toBe(OTLP_DELTA);
    expect(duration?.histogram?.dataPoints?.[0]?.explicitBounds).toEqual(LATENCY_BUCKETS_SECONDS);
  });

  it('loses nothing while the receiver is down: the next push after it is back carries the missed requests', async () => {
    const before = await settle(HEALTH);
    receiverDown = true;
    const refused = pushes.length;
    for (let i = 0; i < 4; i += 1) {
      expect((await fetch(`${gateway.url}/api/health`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await eventually('a push to be refused', async () => pushes.length > refused);
    expect(await exposed(HEALTH)).toBe(before);
    receiverDown = false;
    // no timer outlives a request at the edge: the next request's push carries the missed ones too
    expect((await fetch(`${gateway.url}/api/health`)).status).toBe(200);
    await eventually('the missed requests to arrive with the next push', async () => (await exposed(HEALTH)) === before + 5);
    expect(await settle(HEALTH)).toBe(before + 5);
  });

  it('refuses pushes without the token, from another environment or off the metric definitions, with a code and a fix', async () => {
    const post = (body: unknown, token = TOKEN) =>
      fetch(`${receiver.url}/v1/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: string; message: string } }));
    const pushOf = (environment: string, metric: object) => ({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: ENVIRONMENT_ATTRIBUTE, value: { stringValue: environment } }] },
          scopeMetrics: [{ metrics: [metric] }],
        },
      ],
    });
    const counter = (attributes: Record<string, string>, temporality = OTLP_DELTA) => ({
      name: 'microdao_http_responses_total',
      sum: {
        aggregationTemporality: temporality,
        isMonotonic: true,
        dataPoints: [{ attributes: Object.entries(attributes).map(([key, v]) => ({ key, value: { stringValue: v } })), asDouble: 1 }],
      },
    });
    const good = { method: 'GET', route: '/api/x', status_class: '2xx' };
    const totalBefore = await (await fetch(`${receiver.url}/metrics`)).text();

    expect(await post(pushOf('test', counter(good)), 'wrong-token')).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await post(pushOf('prod', counter(good)))).toMatchObject({ status: 403, body: { code: 'wrong_environment' } });
    expect(await post(pushOf('test', counter(good, 2)))).toMatchObject({ status: 400, body: { code: 'not_delta' } });
    expect(await post(pushOf('test', counter({ ...good, user: 'alice' })))).toMatchObject({
      status: 400,
      body: { code: 'unexpected_attributes' },
    });
    expect(await post(pushOf('test', { ...counter(good), name: 'microdao_made_up_total' }))).toMatchObject({
      status: 400,
      body: { code: 'unknown_metric' },
    });
    expect(await post({ hello: 'world' })).toMatchObject({ status: 400, body: { code: 'not_otlp' } });
    expect(await (await fetch(`${receiver.url}/metrics`)).text()).toBe(totalBefore);

    expect(await post(pushOf('test', counter(good)))).toMatchObject({ status: 200 });
    expect(await exposed('microdao_http_responses_total{method="GET",route="/api/x",status_class="2xx"}')).toBe(1);
  });
});

// The bounds of GET /api/live through the real app and real NATS: 100 idle streams (memory per stream
// measured), the per-principal cap (429 live_stream_limit, freed when a stream closes), other teams' events
// never queued, a slow client's stream ended with `resync` once its queue is full, and shutdown ending every
// open stream promptly.
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectFor } from '../../functions/_shared/events/catalog.ts';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import { DEFAULT_LIVE_LIMITS, type LiveHub } from '../../functions/api/core/live-hub.ts';
import { seedIds } from '../harness/database.ts';
import { testServices, uniqueName } from '../harness/services.ts';
import { call, devLogin, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { testLiveHub } from './live-hub-helper.ts';

const QUEUE_LIMIT = 20;
// a forced collection before each heap reading, so the figure is what the streams keep, not garbage
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
let gateway: TestGateway;
let hub: LiveHub;
let nc: NatsConnection;
let subjectPrefix: string;
let alice: Session;
let otherTeam: string;

interface OpenStream {
  status: number;
  response: Response;
  controller: AbortController;
}

function hangUp(stream: OpenStream): void {
  stream.controller.abort();
  void stream.response.body?.cancel().catch(() => undefined);
}

async function open(token: string): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await gateway.app.request('/api/live', { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  return { status: response.status, response, controller };
}

/** Reads the stream's text until `until` matches it or the stream ends; returns what it read. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: (text: string) => boolean, text = ''): Promise<string> {
  const decoder = new TextDecoder();
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

function publishMessage(teamId: string): void {
  const h = natsHeaders();
  h.set(EVENT_HEADERS.id, randomUUID());
  h.set(EVENT_HEADERS.type, 'message.created');
  const payload = {
    message_id: randomUUID(),
    channel_id: seedIds.generalChannel,
    team_id: teamId,
    author_id: seedIds.alice,
    parent_id: null,
    created_at: new Date().toISOString(),
  };
  nc.publish(subjectFor(subjectPrefix, 'message.created'), JSON.stringify(payload), { headers: h });
}

/** Publishes `count` events of `teamId` and resolves once the hub has handed every one to its listeners. */
async function publishAndWaitForHub(teamId: string, count: number): Promise<void> {
  let seen = 0;
  const unsubscribe = await hub.subscribe({ onEvent: (e) => void (e.teamId === teamId && seen++), onInterrupted: () => {} });
  try {
    for (let i = 0; i < count; i++) publishMessage(teamId);
    await nc.flush();
    await waitUntil(`the hub to receive ${count} events`, () => seen >= count, { timeoutMs: 20_000 });
  } finally {
    unsubscribe();
  }
}

beforeAll(async () => {
  subjectPrefix = uniqueName('mdao_livebounds');
  hub = testLiveHub(subjectPrefix, testServices.natsUrl, { ...DEFAULT_LIVE_LIMITS, maxQueuedEvents: QUEUE_LIMIT });
  gateway = await startTestGateway('live_bounds', { env: { NATS_SUBJECT_PREFIX: subjectPrefix }, app: { live: hub } });
  nc = await connect({ servers: testServices.natsUrl });
  alice = await devLogin(gateway.app, 'alice@demo.local');
  const carol = await devLogin(gateway.app, 'carol@other.test');
  otherTeam = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: carol.token, body: { name: 'Other' } })).body.id;
});
afterAll(async () => {
  await nc?.close();
  await hub?.close();
  await gateway?.close();
});

describe('GET /api/live bounds', () => {
  it('holds 100 idle streams, caps each principal, and frees a slot when a stream closes', async () => {
    const cap = DEFAULT_LIVE_LIMITS.maxStreamsPerPrincipal;
    const users = await Promise.all(Array.from({ length: 100 / cap }, (_, i) => devLogin(gateway.app, `idle-${i}@demo.local`)));
    // the first stream pays for the NATS connection and subscriptions: not part of a stream's cost
    const warmup = await open(users[0]!.token);
    expect(warmup.status).toBe(200);
    hangUp(warmup);
    const slotBack = async (user: Session) => {
      const retry = await open(user.token);
      hangUp(retry);
      return retry.status === 200;
    };
    await waitUntil('the warm-up stream to close', () => slotBack(users[0]!), { timeoutMs: 15_000 });
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const streams: OpenStream[] = [];
    for (const user of users) for (let i = 0; i < cap; i++) streams.push(await open(user.token));
    collectGarbage();
    const perStream = (process.memoryUsage().heapUsed - before) / streams.length;
    console.log(`live: ${streams.length} idle streams, ${Math.round(perStream)} bytes of heap per stream`);
    expect(streams.map((s) => s.status)).toEqual(Array(100).fill(200));
    expect(perStream).toBeLessThan(1024 * 1024); // a stream is small: a queue, a subscription entry, timers

    const oneTooMany = await open(users[0]!.token);
    expect(oneTooMany.status).toBe(429);
    const body = (await oneTooMany.response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('live_stream_limit');
    expect((await open(users[1]!.token)).status).toBe(429); // every principal has the same cap

    hangUp(streams[0]!);
    await waitUntil('a slot freed by the closed stream', () => slotBack(users[0]!), { timeoutMs: 15_000 });
    for (const stream of streams) hangUp(stream);
  }, 180_000);

  it("drops other teams' events before queueing, and ends a slow client's stream with resync once its queue is full", async () => {
    const slow = await open(alice.token);
    expect(slow.status).toBe(200);
    const reader = slow.response.body!.getReader();
    let text = await readUntil(reader, (t) => t.includes('event: ready'));

    // far more events than the queue holds, all of another team: none is queued, so the stream lives on
    await publishAndWaitForHub(otherTeam, QUEUE_LIMIT * 5);
    await publishAndWaitForHub(seedIds.demoTeam, 1);
    text = await readUntil(reader, (t) => t.includes('event: message.created'), text);
    expect(text).not.toContain('event: resync');
    expect(text).not.toContain(otherTeam);

    // now the client stops reading while its own team's events pour in
    await publishAndWaitForHub(seedIds.demoTeam, QUEUE_LIMIT * 3);
    text = await readUntil(reader, () => false, text); // to the end: the gateway closed it
    expect(text).toContain('event: resync\ndata: {"reason":"too_slow"}');
    const delivered = text.split('event: message.created').length - 1;
    expect(delivered).toBeLessThan(QUEUE_LIMIT * 3 + 1);
  }, 120_000);

  it('ends every open stream promptly when the gateway shuts down', async () => {
    const streams = await Promise.all(Array.from({ length: 10 }, () => open(alice.token)));
    const readers = streams.map((s) => s.response.body!.getReader());
    await Promise.all(readers.map((r) => readUntil(r, (t) => t.includes('event: ready'))));
    const started = Date.now();
    const ends = readers.map((r) => readUntil(r, () => false));
    await hub.close(); // what closeGatewayDeps does first
    const texts = await Promise.all(ends);
    const elapsed = Date.now() - started;
    console.log(`live: 10 open streams ended ${elapsed} ms after shutdown began`);
    expect(elapsed).toBeLessThan(5000);
    for (const text of texts) expect(text).toContain('event: resync\ndata: {"reason":"shutdown"}');
  }, 60_000);
});

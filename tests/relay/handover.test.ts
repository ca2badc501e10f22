// Blue-green handover of the workers under load: while producers write events, the new version's relay and
// telemetry consumer start beside the old ones, then the old ones get SIGTERM (what a rollout sends) and leave.
// Lanes (relay) and the durable consumer (NATS) share the work while both run; afterwards every event is in the
// stream once and was counted once — nothing lost, nothing duplicated. scripts/bluegreen.sh drives the same
// sequence on Kubernetes.
import { describe, expect, it } from 'vitest';
import { readEventCounts } from '../../workers/consumers/telemetry/telemetry.ts';
import { testServices } from '../harness/services.ts';
import { messageCreated } from './support/events.ts';
import { useSharedNats } from './support/fixture.ts';
import {
  backlog,
  databaseSettings,
  enqueue,
  relayStarted,
  spawnRelay,
  spawnWorker,
  waitFor,
  type RelayProcess,
} from './support/relay-env.ts';
import { readStream } from './support/stream-reader.ts';

const fixture = useSharedNats();
const MIN_EVENTS_BEFORE = 150;

describe('blue-green handover of the relay and a consumer', () => {
  it('loses and duplicates nothing while the new version takes over under load', { timeout: 90_000 }, async () => {
    const { db, streams } = await fixture.setUp('handover');
    const settings = databaseSettings(db.url);
    const consumer = (colour: string) =>
      spawnWorker('workers/consumers/telemetry/main.ts', settings, testServices.natsUrl, streams, {
        NATS_CONSUMER_TELEMETRY: 'telemetry-handover',
        SERVICE_VERSION: colour,
      });
    const all: RelayProcess[] = [];
    const start = (process: RelayProcess) => (all.push(process), process);
    fixture.afterTest(async () => all.forEach((p) => p.child.kill('SIGKILL')));

    const ready = async (version: { relay: RelayProcess; consumer: RelayProcess }) => {
      await waitFor('the relay to start', () => relayStarted(version.relay), 30_000);
      await waitFor('the consumer to start', () => version.consumer.lines.some((l) => l.includes('"consumer started"')), 30_000);
    };
    const blue = { relay: start(spawnRelay(settings, testServices.natsUrl, streams)), consumer: start(consumer('blue')) };
    await ready(blue);

    // events keep coming, ~100 a second, from before green starts until after blue has left
    let produced = 0;
    let rolledOut = false;
    const produce = async () => {
      while (!rolledOut) {
        await enqueue(db.sql, { type: 'message.created', aggregateId: `agg-${produced % 12}`, payload: messageCreated() });
        produced += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    // the rollout: green starts beside blue, is ready, then blue gets SIGTERM
    const rollout = async () => {
      await waitFor('events flowing', () => produced >= MIN_EVENTS_BEFORE, 30_000, 20);
      const green = { relay: start(spawnRelay(settings, testServices.natsUrl, streams)), consumer: start(consumer('green')) };
      await ready(green);
      const atHandover = produced;
      blue.relay.child.kill('SIGTERM');
      blue.consumer.child.kill('SIGTERM');
      const exits = await Promise.all([blue.relay.exited, blue.consumer.exited]);
      await waitFor('events after the handover', () => produced >= atHandover + MIN_EVENTS_BEFORE, 30_000, 20);
      rolledOut = true;
      return { green, exits };
    };
    const [, { green, exits }] = await Promise.all([produce(), rollout()]);
    const EVENTS = produced;
    expect(exits).toEqual([0, 0]);
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0, 30_000, 100);
    await waitFor(
      'every event to be counted',
      async () => (await readEventCounts(db.sql)).reduce((sum, c) => sum + c.events, 0) >= EVENTS,
      30_000,
      100,
    );
    // a moment for a duplicate to show, had there been one
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    expect(stored).toHaveLength(EVENTS);
    expect(new Set(stored.map((e) => e.id)).size).toBe(EVENTS);
    expect(await readEventCounts(db.sql)).toEqual([{ eventType: 'message.created', events: EVENTS }]);
    const info = await fixture.jsm.consumers.info(streams.NATS_STREAM_EVENTS, 'telemetry-handover');
    expect(info.num_pending + info.num_ack_pending).toBe(0);
    expect(green.relay.child.exitCode).toBeNull(); // the new version carries on
  });
});

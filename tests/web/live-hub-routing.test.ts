// The live hub's routing tables on real NATS: a routed listener gets only its teams' events (and an event that
// makes its principal a member, whose team is routed to it from then on), a refresh of its teams re-routes it,
// and an unsubscribed listener is gone from every table. Events reach listeners as ready SSE frames.
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectFor, type EventType } from '../../functions/_shared/events/catalog.ts';
import { EVENT_HEADERS } from '../../functions/_shared/events/headers.ts';
import type { LiveEvent, LiveHub } from '../../functions/api/core/live-hub.ts';
import { testServices, uniqueName } from '../harness/services.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
import { testLiveHub } from './live-hub-helper.ts';

let hub: LiveHub;
let nc: NatsConnection;
let subjectPrefix: string;
const teamA = randomUUID();
const teamB = randomUUID();
const teamC = randomUUID();
const me = randomUUID();

function publish(type: EventType, payload: Record<string, unknown>): string {
  const id = randomUUID();
  const h = natsHeaders();
  h.set(EVENT_HEADERS.id, id);
  h.set(EVENT_HEADERS.type, type);
  nc.publish(subjectFor(subjectPrefix, type), JSON.stringify(payload), { headers: h });
  return id;
}

const message = (teamId: string) => ({
  message_id: randomUUID(),
  channel_id: randomUUID(),
  team_id: teamId,
  author_id: randomUUID(),
  parent_id: null,
  created_at: new Date().toISOString(),
});

beforeAll(async () => {
  subjectPrefix = uniqueName('mdao_liverouting');
  hub = testLiveHub(subjectPrefix);
  nc = await connect({ servers: testServices.natsUrl });
});
afterAll(async () => {
  await nc?.close();
  await hub?.close();
});

describe('live hub routing', () => {
  it("routes only the listener's teams, adds a team it joins, and re-routes on refresh", async () => {
    const routed: LiveEvent[] = [];
    const everything: LiveEvent[] = [];
    const subscription = await hub.subscribe(
      { onEvent: (e) => void routed.push(e), onInterrupted: () => {} },
      { principalId: me, teamIds: [teamA] },
    );
    const firehose = await hub.subscribe({ onEvent: (e) => void everything.push(e), onInterrupted: () => {} });

    const ofA = publish('message.created', message(teamA));
    publish('message.created', message(teamB));
    const joinC = publish('team.member_added', { team_id: teamC, user_id: me, role: 'member', added_by: randomUUID() });
    const ofC = publish('message.created', message(teamC));
    await nc.flush();
    await waitUntil('the unrouted listener to see all four events', () => everything.length >= 4, { timeoutMs: 10_000 });
    await waitUntil('the routed listener to see three', () => routed.length >= 3, { timeoutMs: 10_000 });
    expect(routed.map((e) => e.id)).toEqual([ofA, joinC, ofC]);
    expect(routed[1]!.joins).toBe(me);
    expect(routed[0]!.frame).toBe(`event: message.created\ndata: ${JSON.stringify(routed[0]!.payload)}\nid: ${ofA}\n\n`);

    // the membership read says B only (A left, the join of C not confirmed): A and C are no longer routed
    expect(await subscription.refreshTeams(async () => new Set([teamB]))).toEqual(new Set([teamB]));
    routed.length = 0;
    everything.length = 0;
    publish('message.created', message(teamA));
    const ofB = publish('message.created', message(teamB));
    publish('message.created', message(teamC));
    await nc.flush();
    await waitUntil('the unrouted listener to see three more', () => everything.length >= 3, { timeoutMs: 10_000 });
    expect(routed.map((e) => e.id)).toEqual([ofB]);

    subscription();
    firehose();
    routed.length = 0;
    publish('message.created', message(teamB));
    publish('team.member_added', { team_id: teamA, user_id: me, role: 'member', added_by: randomUUID() });
    await nc.flush();
    const probe: LiveEvent[] = [];
    const last = await hub.subscribe({ onEvent: (e) => void probe.push(e), onInterrupted: () => {} });
    const marker = publish('message.created', message(teamB));
    await nc.flush();
    await waitUntil('a later listener to see the marker', () => probe.some((e) => e.id === marker), { timeoutMs: 10_000 });
    last();
    expect(routed).toEqual([]);
  });

  it('keeps a team joined while the membership read was running', async () => {
    const routed: LiveEvent[] = [];
    const subscription = await hub.subscribe(
      { onEvent: (e) => void routed.push(e), onInterrupted: () => {} },
      { principalId: me, teamIds: [teamA] },
    );
    let joinId = '';
    // the read began before the join (it does not list C), the join arrives before the read ends
    const teams = await subscription.refreshTeams(async () => {
      joinId = publish('team.member_added', { team_id: teamC, user_id: me, role: 'member', added_by: randomUUID() });
      await nc.flush();
      await waitUntil('the join to arrive', () => routed.some((e) => e.id === joinId), { timeoutMs: 10_000 });
      return new Set([teamA]);
    });
    expect(teams).toEqual(new Set([teamA]));
    const ofC = publish('message.created', message(teamC));
    await nc.flush();
    await waitUntil("the joined team's next event", () => routed.some((e) => e.id === ofC), { timeoutMs: 10_000 });
    subscription();
  });
});

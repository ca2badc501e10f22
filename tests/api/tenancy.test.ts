// Tenancy: a member of another team gets 404 on every messaging route (the list of routes comes from the
// app, so a new route under /api/teams, /api/channels or /api/messages is covered or this test fails), and the very SQL the handlers run, executed directly
// under that member's claims, returns nothing and changes nothing: RLS holds on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as channels from '../../functions/api/messaging/channels.queries.ts';
import * as invitations from '../../functions/api/messaging/invitations.queries.ts';
import * as messages from '../../functions/api/messaging/messages.queries.ts';
import * as teams from '../../functions/api/messaging/teams.queries.ts';
import { teamIsVisible } from '../../functions/api/core/team-visibility.ts';
import { asUser, seedIds } from '../harness/database.ts';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from './helpers.ts';
import { appRoutes, demoTeamIds, exampleBody, type OpenApiDocument } from './routes.ts';

let gateway: TestGateway;
let carol: Session;
let followupId: string;

/** The messaging slice: every route under these prefixes is checked, including ones added later. Other
    routes (health, dev login, the live feed filtered by the caller's teams, the admin console refusing
    non-admins) are tested where they are built. */
const MESSAGING_PREFIXES = ['/api/teams', '/api/channels', '/api/messages'];
// Messaging routes that name no team, channel or message: they act on the caller's own teams by construction.
const ROUTES_WITHOUT_A_TARGET = new Set(['GET /api/teams', 'POST /api/teams']);
const isMessagingRoute = (path: string) => MESSAGING_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));

/** Every row of the tenant tables, as one fingerprint per table. */
async function fingerprint(): Promise<Record<string, string>> {
  const sql = gateway.database.sql;
  const [row] = await sql<Record<string, string>[]>`
    select
      (select md5(coalesce(string_agg(t::text, ',' order by t.id), '')) from public.teams t) as teams,
      (select md5(coalesce(string_agg(m::text, ',' order by m.team_id, m.user_id), '')) from public.team_members m) as team_members,
      (select md5(coalesce(string_agg(i::text, ',' order by i.id), '')) from public.team_invitations i) as team_invitations,
      (select md5(coalesce(string_agg(c::text, ',' order by c.id), '')) from public.channels c) as channels,
      (select md5(coalesce(string_agg(m::text, ',' order by m.id), '')) from public.messages m) as messages,
      (select count(*)::text from public.outbox_events) as outbox_events,
      (select count(*)::text from public.audit_log) as audit_log`;
  return row!;
}

beforeAll(async () => {
  gateway = await startTestGateway('api_tenancy');
  const alice = await devLogin(gateway.app, 'alice@demo.local');
  const reply = await call<{ id: string }>(gateway.app, 'POST', `/api/messages/${seedIds.welcomeMessage}/followups`, {
    token: alice.token,
    body: { body: 'A reply only the demo team may see' },
  });
  followupId = reply.body.id;
  // Carol belongs to a team of her own, with a channel and a message: a real member of another team
  carol = await devLogin(gateway.app, 'carol@other.test');
  const team = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: carol.token, body: { name: 'Other Team' } });
  const channel = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
    token: carol.token,
    body: { team_id: team.body.id, name: 'mine' },
  });
  await call(gateway.app, 'POST', '/api/messages', { token: carol.token, body: { channel_id: channel.body.id, body: 'hello' } });
});
afterAll(async () => {
  await gateway?.close();
});

describe('a member of another team', () => {
  it('gets 404 on every messaging route that names the demo team, its channel or its message, and changes nothing', async () => {
    const document = (await call<OpenApiDocument>(gateway.app, 'GET', '/api/openapi.json')).body;
    const before = await fingerprint();
    const covered: string[] = [];
    for (const route of appRoutes(gateway.app)) {
      if (!isMessagingRoute(route.path) || ROUTES_WITHOUT_A_TARGET.has(route.key)) continue;
      const path = route.path.replace(/:(\w+)/g, (_, name: string) => {
        if (!demoTeamIds[name]) throw new Error(`${route.key}: no demo-team id for path parameter ${name}; add it to demoTeamIds`);
        return demoTeamIds[name]!;
      });
      const operation = document.paths[route.openApiPath]?.[route.method.toLowerCase()];
      if (!operation) throw new Error(`${route.key} is not in the OpenAPI document`);
      const query = (operation.parameters ?? [])
        .filter((p) => p.in === 'query' && demoTeamIds[p.name])
        .map((p) => `${p.name}=${demoTeamIds[p.name]}`);
      const body = exampleBody(document, operation);
      for (const key of Object.keys(body ?? {})) if (demoTeamIds[key]) body![key] = demoTeamIds[key];
      // a required header (Idempotency-Key) gets a fresh value: the request must reach the team check
      const headers = Object.fromEntries(
        (operation.parameters ?? []).filter((p) => p.in === 'header' && p.required).map((p) => [p.name, `tenancy-${Math.random()}`]),
      );
      const answer = await call(gateway.app, route.method, `${path}${query.length ? `?${query.join('&')}` : ''}`, {
        token: carol.token,
        body,
        headers,
      });
      expect.soft([route.key, answer.status], JSON.stringify(answer.body)).toEqual([route.key, 404]);
      expectErrorShape(answer);
      covered.push(route.key);
    }
    expect(covered.length).toBeGreaterThanOrEqual(11);
    expect(await fingerprint()).toEqual(before);
  });

  it('does not see the demo team among its teams', async () => {
    const mine = await call<{ items: { id: string }[] }>(gateway.app, 'GET', '/api/teams', { token: carol.token });
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items.map((t) => t.id)).not.toContain(seedIds.demoTeam);
  });
});

describe("the handlers' SQL under another team member's claims", () => {
  it('reads nothing of the demo team', async () => {
    const seen = await asUser(gateway.sql, carol.userId, async (tx) => ({
      visible: await teamIsVisible(tx, seedIds.demoTeam),
      members: await teams.listTeamMembers(tx, seedIds.demoTeam),
      invitations: await invitations.listTeamInvitations(tx, seedIds.demoTeam),
      myTeams: (await teams.listMyTeams(tx)).filter((t) => t.id === seedIds.demoTeam),
      channels: await channels.listTeamChannels(tx, seedIds.demoTeam, true),
      channel: await channels.findChannel(tx, seedIds.generalChannel),
      messages: await messages.listChannelMessages(tx, { channelId: seedIds.generalChannel, before: null, limit: 50 }),
      followups: await messages.listFollowups(tx, { parentId: seedIds.welcomeMessage, after: null, limit: 50 }),
      message: await messages.findMessage(tx, seedIds.welcomeMessage),
      followup: await messages.findMessage(tx, followupId),
    }));
    expect(seen).toEqual({
      visible: false,
      members: [],
      invitations: [],
      myTeams: [],
      channels: [],
      channel: null,
      messages: [],
      followups: [],
      message: null,
      followup: null,
    });
  });

  it('writes nothing to the demo team', async () => {
    const before = await fingerprint();
    const written = await asUser(gateway.sql, carol.userId, async (tx) => ({
      channel: await channels.insertChannel(tx, { teamId: seedIds.demoTeam, name: 'intruder', topic: null }),
      archived: await channels.archiveChannel(tx, seedIds.generalChannel),
      message: await messages.insertMessage(tx, { channelId: seedIds.generalChannel, body: 'intruder', correlationId: 'tenancy-test' }),
      followup: await messages.insertFollowup(tx, { parentId: seedIds.welcomeMessage, body: 'intruder', correlationId: 'tenancy-test' }),
      edited: await messages.updateMessageBody(tx, { messageId: seedIds.welcomeMessage, body: 'defaced' }),
      editedFollowup: await messages.updateMessageBody(tx, { messageId: followupId, body: 'defaced' }),
      deleted: await messages.softDeleteMessage(tx, seedIds.welcomeMessage),
      invited: (
        await invitations.inviteToTeam(tx, {
          teamId: seedIds.demoTeam,
          email: 'x@evil.test',
          role: 'owner',
          validDays: 1,
          requestId: 'tenancy-test',
        })
      ).outcome,
      revoked: await invitations.revokeInvitation(tx, seedIds.demoTeam, '00000000-0000-4000-8000-000000000000', 'tenancy-test'),
    }));
    expect(written).toEqual({
      channel: null,
      archived: null,
      message: null,
      followup: null,
      edited: null,
      editedFollowup: null,
      deleted: null,
      invited: 'not_allowed',
      revoked: 'not_allowed',
    });

    // joining the team directly is refused by the database itself (only an accepted invitation adds a member)
    await expect(
      asUser(
        gateway.sql,
        carol.userId,
        (tx) => tx`
        insert into public.team_members (team_id, user_id, role) values (${seedIds.demoTeam}, ${carol.userId}, 'owner')`,
      ),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await fingerprint()).toEqual(before);
  });
});

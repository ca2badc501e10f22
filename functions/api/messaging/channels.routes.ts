// Channels: create one in a team, list a team's channels, archive one (read-only from then on).
import { z } from '@hono/zod-openapi';
import { conflict, notFound } from '../../_shared/errors.ts';
import { enqueueEvent, recordAudit } from '../../_shared/outbox.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { capabilityMissing, requireTeamCapability } from '../core/pep.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, Name, Text, Timestamp, securedRoute, Uuid } from '../core/route.ts';
import { archiveChannel, findChannel, insertChannel, listTeamChannels } from './channels.queries.ts';

const Channel = z
  .object({
    id: Uuid,
    team_id: Uuid,
    name: z.string(),
    topic: z.string().nullable(),
    archived_at: Timestamp.nullable(),
    created_by: Uuid,
    created_at: Timestamp,
  })
  .openapi('Channel');

const ChannelName = Name(80).regex(/^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}_-]*$/u, {
  message: 'must be lowercase letters, digits, "-" or "_", starting with a letter or digit (e.g. "general")',
});
const CreateChannelBody = z
  .strictObject({ team_id: Uuid, name: ChannelName, topic: Text(500).nullable().optional() })
  .openapi('CreateChannel', {
    example: { team_id: '00000000-0000-4000-8000-0000000d3a00', name: 'solar-roofs', topic: 'Who has panels to share?' },
  });
const ListChannelsQuery = z.strictObject({
  team_id: Uuid,
  include_archived: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true')
    .openapi({ type: 'string', enum: ['true', 'false'] }),
});
const ChannelPath = z.strictObject({ channelId: Uuid.openapi({ param: { name: 'channelId', in: 'path' } }) });

const createChannel = securedRoute('channel.create', {
  method: 'post',
  path: '/',
  tags: ['channels'],
  summary: 'Create a channel in one of my teams',
  request: { body: jsonBody(CreateChannelBody, 'The new channel') },
  responses: { 201: jsonResponse(Channel, 'The channel'), ...errorResponses(404, 409) },
});

const listChannels = securedRoute('channel.read', {
  method: 'get',
  path: '/',
  tags: ['channels'],
  summary: "A team's channels, by name",
  request: { query: ListChannelsQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Channel) }), 'The channels'), ...errorResponses(400, 404) },
});

const archive = securedRoute('channel.create', {
  method: 'post',
  path: '/{channelId}/archive',
  tags: ['channels'],
  summary: 'Archive a channel (its creator, or whoever holds channel.manage in the team)',
  request: { params: ChannelPath },
  responses: { 200: jsonResponse(Channel, 'The archived channel'), ...errorResponses(400, 403, 404, 409) },
});

export const channelNotFound = () =>
  notFound('channel_not_found', "No channel with this id is visible to you; list your team's channels with GET /api/channels?team_id=….");

export const channelRoutes = createRouter()
  .openapi(createChannel, async (c) => {
    const { team_id: teamId, name, topic } = c.req.valid('json');
    const requestId = c.var.requestId;
    const channel = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      await requireTeamCapability(tx, teamId, 'channel.create');
      const channel = await insertChannel(tx, { teamId, name, topic: topic ?? null });
      if (!channel) throw conflict('channel_name_taken', `The team already has a channel named "${name}"; pick another name.`);
      const payload = { channel_id: channel.id, team_id: teamId, name, created_by: channel.created_by };
      await enqueueEvent(tx, { type: 'channel.created', aggregateId: channel.id, payload, correlationId: requestId });
      await recordAudit(tx, {
        action: 'channel.created',
        targetType: 'channel',
        targetId: channel.id,
        teamId,
        requestId,
        details: { name },
      });
      return channel;
    });
    return c.json(channel, 201);
  })
  .openapi(listChannels, async (c) => {
    const { team_id: teamId, include_archived: includeArchived } = c.req.valid('query');
    const items = await inRequestTransaction(c, async (tx) => {
      await requireVisibleTeam(tx, teamId);
      return listTeamChannels(tx, teamId, includeArchived);
    });
    return c.json({ items }, 200);
  })
  .openapi(archive, async (c) => {
    const { channelId } = c.req.valid('param');
    const requestId = c.var.requestId;
    const channel = await inRequestTransaction(c, async (tx) => {
      const archived = await archiveChannel(tx, channelId);
      if (!archived) {
        const current = await findChannel(tx, channelId);
        if (!current) throw channelNotFound();
        if (current.archived_at) throw conflict('channel_archived', 'This channel is already archived.');
        throw capabilityMissing('channel.manage'); // not its creator: archiving someone else's channel needs it
      }
      const payload = { channel_id: archived.id, team_id: archived.team_id, archived_by: c.var.principal.id };
      await enqueueEvent(tx, { type: 'channel.archived', aggregateId: archived.id, payload, correlationId: requestId });
      await recordAudit(tx, {
        action: 'channel.archived',
        targetType: 'channel',
        targetId: archived.id,
        teamId: archived.team_id,
        requestId,
      });
      return archived;
    });
    return c.json(channel, 200);
  });

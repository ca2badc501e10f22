// Events of the messaging domain: teams, members, channels, messages.
import { z } from 'zod';
import { defineEvents, timestamp, uuid } from './define.ts';

export const messagingEvents = defineEvents({
  'team.created': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, name: z.string(), created_by: uuid }),
  },
  'team.member_added': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, user_id: uuid, role: z.enum(['owner', 'admin', 'member']), added_by: uuid }),
  },
  'channel.created': {
    version: 1,
    aggregate: 'channel',
    payload: z.object({ channel_id: uuid, team_id: uuid, name: z.string(), created_by: uuid }),
  },
  'channel.archived': {
    version: 1,
    aggregate: 'channel',
    payload: z.object({ channel_id: uuid, team_id: uuid, archived_by: uuid }),
  },
  // Message events carry ids, not bodies: message text stays in Postgres behind RLS.
  'message.created': {
    version: 1,
    aggregate: 'message',
    payload: z.object({
      message_id: uuid,
      channel_id: uuid,
      team_id: uuid,
      author_id: uuid,
      parent_id: uuid.nullable(),
      created_at: timestamp,
    }),
  },
  'message.edited': {
    version: 1,
    aggregate: 'message',
    payload: z.object({ message_id: uuid, channel_id: uuid, team_id: uuid, author_id: uuid, edited_at: timestamp }),
  },
  'message.deleted': {
    version: 1,
    aggregate: 'message',
    payload: z.object({ message_id: uuid, channel_id: uuid, team_id: uuid, author_id: uuid, deleted_at: timestamp }),
  },
});

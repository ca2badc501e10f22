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
  // Invitations carry ids and the role, never the invited address: whether an account uses it stays private.
  'team.invitation_created': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, invitation_id: uuid, role: z.enum(['owner', 'admin', 'member']), invited_by: uuid }),
  },
  'team.invitation_accepted': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, invitation_id: uuid, user_id: uuid }),
  },
  'team.invitation_declined': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, invitation_id: uuid }),
  },
  'team.invitation_revoked': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, invitation_id: uuid, revoked_by: uuid }),
  },
  'team.member_left': {
    version: 1,
    aggregate: 'team',
    payload: z.object({ team_id: uuid, user_id: uuid }),
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

// The event catalog: every event type the platform emits, with its subject, payload schema and version.
// The single source for producers (the gateway enqueues outbox rows validated here), the outbox relay
// (subject and headers) and the consumers (payload parsing). Add an event here first, then emit it.
import { z } from 'zod';

const uuid = z.uuid();
const timestamp = z.iso.datetime({ offset: true });

export const eventCatalog = {
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
} as const satisfies Record<string, { version: number; aggregate: string; payload: z.ZodType }>;

export type EventType = keyof typeof eventCatalog;
export type EventPayload<T extends EventType> = z.infer<(typeof eventCatalog)[T]['payload']>;
export const eventTypes = Object.keys(eventCatalog) as EventType[];

export const isEventType = (value: string): value is EventType => Object.hasOwn(eventCatalog, value);

/** NATS subject of an event: `<prefix>.<event type>`, e.g. `microdao.message.created`. The prefix lets one
    NATS account hold several isolated streams (tests use a fresh prefix per stream). */
export const subjectFor = (prefix: string, type: EventType): string => `${prefix}.${type}`;

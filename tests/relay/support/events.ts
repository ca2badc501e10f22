// Valid payloads of catalog events, for relay and consumer tests.
import { randomUUID } from 'node:crypto';

export const messageCreated = () => ({
  message_id: randomUUID(),
  channel_id: randomUUID(),
  team_id: randomUUID(),
  author_id: randomUUID(),
  parent_id: null,
  created_at: new Date().toISOString(),
});

export const channelArchived = () => ({ channel_id: randomUUID(), team_id: randomUUID(), archived_by: randomUUID() });

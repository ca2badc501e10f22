// Events of the storage domain: a file's upload checked (stored or rejected), attached to a message, and deleted. They carry ids
// and the object's address, never the bytes; file.deleted is what removes the object (see the sweeper).
import { z } from 'zod';
import { defineEvents, timestamp, uuid } from './define.ts';

const fileRef = { file_id: uuid, team_id: uuid, owner_id: uuid, bucket: z.string(), object_key: z.string() };

export const storageEvents = defineEvents({
  'file.stored': {
    version: 1,
    aggregate: 'file',
    payload: z.object({ ...fileRef, content_type: z.string(), size_bytes: z.number().int().positive(), stored_at: timestamp }),
  },
  'file.rejected': {
    version: 1,
    aggregate: 'file',
    payload: z.object({ ...fileRef, reason: z.string() }),
  },
  'file.attached': {
    version: 1,
    aggregate: 'file',
    payload: z.object({ file_id: uuid, team_id: uuid, message_id: uuid, channel_id: uuid }),
  },
  'file.deleted': {
    version: 1,
    aggregate: 'file',
    payload: z.object({ ...fileRef, deleted_at: timestamp }),
  },
});

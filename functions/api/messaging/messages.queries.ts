// SQL of messages and their followups (threaded replies); runs inside a user transaction, so RLS scopes every
// statement to the caller. Writes are single statements whose WHERE clauses carry the rules (open channel,
// own message, not deleted); when one matches nothing, the route asks findMessage/findChannel why.
import type { PendingQuery, Row } from 'postgres';
import type { Tx } from '../../_shared/db.ts';
import { enqueueEventCall } from '../../_shared/outbox.ts';
import type { Cursor } from '../core/pagination.ts';

export interface MessageRow {
  id: string;
  channel_id: string;
  team_id: string;
  author_id: string;
  parent_id: string | null;
  /** null once deleted: the text stays in the database but is no longer served */
  body: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  followup_count: number;
}

export type MessageAccessRow = MessageRow & { channel_archived_at: string | null };

const columns = (tx: Tx) => tx`
  m.id, m.channel_id, m.team_id, m.author_id, m.parent_id,
  case when m.deleted_at is null then m.body end as body,
  m.created_at, m.edited_at, m.deleted_at,
  (select count(*)::int from public.messages f where f.parent_id = m.id and f.deleted_at is null) as followup_count`;

export type CreatedMessage = MessageRow & { event_payload: unknown };

/** The message.created event of the row an insert just returned, enqueued by the same statement. */
const withCreatedEvent = (tx: Tx, insert: PendingQuery<Row[]>, correlationId: string) => tx`
  with m as (${insert}),
  event as (
    select m.id, jsonb_build_object('message_id', m.id, 'channel_id', m.channel_id, 'team_id', m.team_id,
      'author_id', m.author_id, 'parent_id', m.parent_id, 'created_at', m.created_at) as payload
    from m
  ),
  enqueued as (
    select ${enqueueEventCall(tx, 'message.created', tx`event.id::text`, tx`event.payload`, correlationId)} as event_id, event.payload
    from event
  )
  select m.id, m.channel_id, m.team_id, m.author_id, m.parent_id, m.body, m.created_at, m.edited_at, m.deleted_at,
    0 as followup_count, enqueued.payload as event_payload
  from m, enqueued`;

/** Posts a top-level message as the caller in an open channel and enqueues its message.created event in the
    same statement (the hottest write: one round trip fewer); null if no such open channel is visible. The
    caller checks event_payload against the catalog before commit. */
export async function insertMessage(
  tx: Tx,
  message: { channelId: string; body: string; correlationId: string },
): Promise<CreatedMessage | null> {
  const insert = tx`
    insert into public.messages (channel_id, team_id, author_id, body)
    select c.id, c.team_id, (select auth.uid()), ${message.body}
    from public.channels c
    where c.id = ${message.channelId} and c.archived_at is null
    returning *`;
  const [row] = await tx<CreatedMessage[]>`${withCreatedEvent(tx, insert, message.correlationId)}`;
  return row ?? null;
}

/** Replies in the thread of a live top-level message of an open channel, with its message.created event as
    insertMessage does; null if there is no such message. */
export async function insertFollowup(
  tx: Tx,
  followup: { parentId: string; body: string; correlationId: string },
): Promise<CreatedMessage | null> {
  const insert = tx`
    insert into public.messages (channel_id, team_id, author_id, parent_id, body)
    select p.channel_id, p.team_id, (select auth.uid()), p.id, ${followup.body}
    from public.messages p
    join public.channels c on c.id = p.channel_id
    where p.id = ${followup.parentId} and p.parent_id is null and p.deleted_at is null and c.archived_at is null
    returning *`;
  const [row] = await tx<CreatedMessage[]>`${withCreatedEvent(tx, insert, followup.correlationId)}`;
  return row ?? null;
}

/** A channel's top-level messages, newest first, strictly older than `before`: `limit + 1` rows at most, so
    pageOf can tell whether another page follows. */
export function listChannelMessages(tx: Tx, page: { channelId: string; before: Cursor | null; limit: number }): Promise<MessageRow[]> {
  const older = page.before ? tx`and (m.created_at, m.id) < (${page.before.createdAt}::timestamptz, ${page.before.id}::uuid)` : tx``;
  return tx<MessageRow[]>`
    select ${columns(tx)}
    from public.messages m
    where m.channel_id = ${page.channelId} and m.parent_id is null ${older}
    order by m.created_at desc, m.id desc
    limit ${page.limit + 1}`;
}

/** A thread's followups in conversation order (oldest first), strictly newer than `after`; `limit + 1` rows at most. */
export function listFollowups(tx: Tx, page: { parentId: string; after: Cursor | null; limit: number }): Promise<MessageRow[]> {
  const newer = page.after ? tx`and (m.created_at, m.id) > (${page.after.createdAt}::timestamptz, ${page.after.id}::uuid)` : tx``;
  return tx<MessageRow[]>`
    select ${columns(tx)}
    from public.messages m
    where m.parent_id = ${page.parentId} ${newer}
    order by m.created_at, m.id
    limit ${page.limit + 1}`;
}

export async function findMessage(tx: Tx, messageId: string): Promise<MessageAccessRow | null> {
  const [row] = await tx<MessageAccessRow[]>`
    select ${columns(tx)}, c.archived_at as channel_archived_at
    from public.messages m
    join public.channels c on c.id = m.channel_id
    where m.id = ${messageId}`;
  return row ?? null;
}

/** Replaces the body of the caller's own live message in an open channel; null if nothing matched. */
export async function updateMessageBody(tx: Tx, edit: { messageId: string; body: string }): Promise<MessageRow | null> {
  const [row] = await tx<MessageRow[]>`
    update public.messages m set body = ${edit.body}, edited_at = now()
    where m.id = ${edit.messageId} and m.author_id = (select auth.uid()) and m.deleted_at is null
      and exists (select 1 from public.channels c where c.id = m.channel_id and c.archived_at is null)
    returning ${columns(tx)}`;
  return row ?? null;
}

/** Soft-deletes the caller's own live message in an open channel; null if nothing matched. */
export async function softDeleteMessage(tx: Tx, messageId: string): Promise<MessageRow | null> {
  const [row] = await tx<MessageRow[]>`
    update public.messages m set deleted_at = now()
    where m.id = ${messageId} and m.author_id = (select auth.uid()) and m.deleted_at is null
      and exists (select 1 from public.channels c where c.id = m.channel_id and c.archived_at is null)
    returning ${columns(tx)}`;
  return row ?? null;
}

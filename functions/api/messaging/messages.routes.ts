// Messages: post to a channel, list a channel newest-first (cursor pages), edit and soft-delete one's own,
// and followups (threaded replies) to a top-level message.
import { z } from '@hono/zod-openapi';
import { ApiError, conflict, forbidden, notFound } from '../../_shared/errors.ts';
import type { Tx } from '../../_shared/db.ts';
import { assertCatalogPayload, enqueueEvent, recordAudit } from '../../_shared/outbox.ts';
import { inRequestTransaction } from '../core/context.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, PageLimit, Text, Timestamp, securedRoute, Uuid } from '../core/route.ts';
import { CursorParam, pageOf } from '../core/pagination.ts';
import { findChannel } from './channels.queries.ts';
import {
  findMessage,
  insertFollowup,
  insertMessage,
  listChannelMessages,
  listFollowups,
  softDeleteMessage,
  updateMessageBody,
  type MessageRow,
} from './messages.queries.ts';
import { channelNotFound } from './channels.routes.ts';
import { holdAgentMentionsUnlessEnabled } from '../agents/agents-flag.ts';

const Message = z
  .object({
    id: Uuid,
    channel_id: Uuid,
    team_id: Uuid,
    author_id: Uuid,
    parent_id: Uuid.nullable().openapi({ description: 'Set on followups: the top-level message replied to' }),
    body: z.string().nullable().openapi({ description: 'null once the message is deleted' }),
    created_at: Timestamp,
    edited_at: Timestamp.nullable(),
    deleted_at: Timestamp.nullable(),
    followup_count: z.number().int().openapi({ description: 'Live followups in the thread' }),
  })
  .openapi('Message');
const MessagePage = z
  .object({ items: z.array(Message), next_cursor: z.string().nullable().openapi({ description: 'null on the last page' }) })
  .openapi('MessagePage');

const Body = Text(8000).refine((text) => text.trim().length > 0, { message: 'must contain some text' });
const PostMessageBody = z
  .strictObject({ channel_id: Uuid, body: Body })
  .openapi('PostMessage', { example: { channel_id: '00000000-0000-4000-8000-0000000c4a01', body: 'Hello, city!' } });
const MessageText = z.strictObject({ body: Body }).openapi('MessageText', { example: { body: 'Hello again, city!' } });
const ListMessagesQuery = z.strictObject({ channel_id: Uuid, cursor: CursorParam.optional(), limit: PageLimit });
const PageQuery = z.strictObject({ cursor: CursorParam.optional(), limit: PageLimit });
const MessagePath = z.strictObject({ messageId: Uuid.openapi({ param: { name: 'messageId', in: 'path' } }) });

const postMessage = securedRoute('message.write', {
  method: 'post',
  path: '/',
  tags: ['messages'],
  summary: 'Post a message to an open channel of one of my teams',
  request: { body: jsonBody(PostMessageBody, 'The message') },
  responses: { 201: jsonResponse(Message, 'The message'), ...errorResponses(404, 409) },
});

const listMessages = securedRoute('message.read', {
  method: 'get',
  path: '/',
  tags: ['messages'],
  summary: "A channel's top-level messages, newest first",
  request: { query: ListMessagesQuery },
  responses: { 200: jsonResponse(MessagePage, 'One page'), ...errorResponses(400, 404) },
});

const editMessage = securedRoute('message.write', {
  method: 'patch',
  path: '/{messageId}',
  tags: ['messages'],
  summary: 'Edit my own message',
  request: { params: MessagePath, body: jsonBody(MessageText, 'The new text') },
  responses: { 200: jsonResponse(Message, 'The edited message'), ...errorResponses(403, 404, 409) },
});

const deleteMessage = securedRoute('message.write', {
  method: 'delete',
  path: '/{messageId}',
  tags: ['messages'],
  summary: 'Delete my own message (soft: it stays in its thread without its text)',
  request: { params: MessagePath },
  responses: { 200: jsonResponse(Message, 'The deleted message'), ...errorResponses(400, 403, 404, 409) },
});

const postFollowup = securedRoute('message.write', {
  method: 'post',
  path: '/{messageId}/followups',
  tags: ['messages'],
  summary: 'Reply in the thread of a top-level message',
  request: { params: MessagePath, body: jsonBody(MessageText, 'The reply') },
  responses: { 201: jsonResponse(Message, 'The followup'), ...errorResponses(404, 409) },
});

const listThread = securedRoute('message.read', {
  method: 'get',
  path: '/{messageId}/followups',
  tags: ['messages'],
  summary: "A message's followups, oldest first",
  request: { params: MessagePath, query: PageQuery },
  responses: { 200: jsonResponse(MessagePage, 'One page'), ...errorResponses(400, 404) },
});

const messageNotFound = () => notFound('message_not_found', 'No message with this id is visible to you.');
const channelArchived = () => conflict('channel_archived', 'The channel is archived and read-only; post in an open channel.');

/** Why a write that names a message matched nothing: invisible, someone else's, deleted, or archived. */
async function explainMessageRefusal(tx: Tx, messageId: string, action: 'edit' | 'delete' | 'reply'): Promise<ApiError> {
  const message = await findMessage(tx, messageId);
  if (!message) return messageNotFound();
  if (message.deleted_at) return conflict('message_deleted', 'The message has been deleted.');
  if (message.channel_archived_at) return channelArchived();
  if (action === 'reply') {
    return conflict('followup_of_followup', `Reply in the thread of the top-level message ${message.parent_id}; followups do not nest.`);
  }
  return forbidden('not_message_author', `Only the author can ${action} a message.`);
}

function messageEvent(message: MessageRow) {
  return { message_id: message.id, channel_id: message.channel_id, team_id: message.team_id, author_id: message.author_id };
}

export const messageRoutes = createRouter()
  .openapi(postMessage, async (c) => {
    const { channel_id: channelId, body } = c.req.valid('json');
    const message = await inRequestTransaction(c, async (tx) => {
      await holdAgentMentionsUnlessEnabled(c, tx, body, { channelId });
      const created = await insertMessage(tx, { channelId, body, correlationId: c.var.requestId });
      if (!created) throw (await findChannel(tx, channelId)) ? channelArchived() : channelNotFound();
      const { event_payload: payload, ...message } = created;
      assertCatalogPayload('message.created', payload);
      return message;
    });
    return c.json(message, 201);
  })
  .openapi(listMessages, async (c) => {
    const { channel_id: channelId, cursor, limit } = c.req.valid('query');
    const rows = await inRequestTransaction(c, async (tx) => {
      const rows = await listChannelMessages(tx, { channelId, before: cursor ?? null, limit });
      if (!rows.length && !(await findChannel(tx, channelId))) throw channelNotFound();
      return rows;
    });
    return c.json(pageOf(rows, limit), 200);
  })
  .openapi(editMessage, async (c) => {
    const { messageId } = c.req.valid('param');
    const { body } = c.req.valid('json');
    const requestId = c.var.requestId;
    const message = await inRequestTransaction(c, async (tx) => {
      const message = await updateMessageBody(tx, { messageId, body });
      if (!message) throw await explainMessageRefusal(tx, messageId, 'edit');
      const payload = { ...messageEvent(message), edited_at: message.edited_at! };
      await enqueueEvent(tx, { type: 'message.edited', aggregateId: message.id, payload, correlationId: requestId });
      await recordAudit(tx, { action: 'message.edited', targetType: 'message', targetId: message.id, teamId: message.team_id, requestId });
      return message;
    });
    return c.json(message, 200);
  })
  .openapi(deleteMessage, async (c) => {
    const { messageId } = c.req.valid('param');
    const requestId = c.var.requestId;
    const message = await inRequestTransaction(c, async (tx) => {
      const message = await softDeleteMessage(tx, messageId);
      if (!message) throw await explainMessageRefusal(tx, messageId, 'delete');
      const payload = { ...messageEvent(message), deleted_at: message.deleted_at! };
      await enqueueEvent(tx, { type: 'message.deleted', aggregateId: message.id, payload, correlationId: requestId });
      await recordAudit(tx, { action: 'message.deleted', targetType: 'message', targetId: message.id, teamId: message.team_id, requestId });
      return message;
    });
    return c.json(message, 200);
  })
  .openapi(postFollowup, async (c) => {
    const { messageId } = c.req.valid('param');
    const { body } = c.req.valid('json');
    const followup = await inRequestTransaction(c, async (tx) => {
      await holdAgentMentionsUnlessEnabled(c, tx, body, { parentId: messageId });
      const created = await insertFollowup(tx, { parentId: messageId, body, correlationId: c.var.requestId });
      if (!created) throw await explainMessageRefusal(tx, messageId, 'reply');
      const { event_payload: payload, ...followup } = created;
      assertCatalogPayload('message.created', payload);
      return followup;
    });
    return c.json(followup, 201);
  })
  .openapi(listThread, async (c) => {
    const { messageId } = c.req.valid('param');
    const { cursor, limit } = c.req.valid('query');
    const rows = await inRequestTransaction(c, async (tx) => {
      const rows = await listFollowups(tx, { parentId: messageId, after: cursor ?? null, limit });
      if (!rows.length && !(await findMessage(tx, messageId))) throw messageNotFound();
      return rows;
    });
    return c.json(pageOf(rows, limit), 200);
  });

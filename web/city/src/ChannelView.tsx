// A channel: its top-level messages (oldest at the top, newest page first from the API), older pages on
// demand, and the composer. Reloads the newest page whenever `version` says the channel changed.
import { useState } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';
import { AttachmentPicker, attachUploads, MessageAttachments, type Upload } from './attachments.tsx';
import { Composer, MessageItem } from './messages.tsx';
import type { Channel, Message } from './types.ts';

export function ChannelView(props: {
  api: ApiClient;
  channel: Channel;
  names: Map<string, string>;
  version: number;
  openThreadId: string | null;
  onOpenThread: (messageId: string) => void;
}) {
  const { api, channel, names } = props;
  const newest = useResource(() => expectOk(api.api.messages.$get({ query: { channel_id: channel.id } })), [channel.id], props.version);
  const [older, setOlder] = useState<{ items: Message[]; cursor: string | null } | null>(null);
  const [olderError, setOlderError] = useState<unknown>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  // bumped after my own attachments land: the message may have been shown (live) before they were attached
  const [attached, setAttached] = useState(0);

  const cursor = older ? older.cursor : (newest.data?.next_cursor ?? null);
  const loadOlder = async () => {
    if (!cursor) return;
    setOlderError(null);
    try {
      const page = await expectOk(api.api.messages.$get({ query: { channel_id: channel.id, cursor } }));
      setOlder((previous) => ({ items: [...(previous?.items ?? []), ...page.items], cursor: page.next_cursor }));
    } catch (error) {
      setOlderError(error);
    }
  };

  // newest-first pages, merged and shown oldest first
  const seen = new Set<string>();
  const messages = [...(newest.data?.items ?? []), ...(older?.items ?? [])].filter((m) => !seen.has(m.id) && seen.add(m.id)).reverse();

  return (
    <section aria-labelledby="channel-heading" className="channel-view">
      <header className="channel-header">
        <h2 id="channel-heading"># {channel.name}</h2>
        {channel.topic && <p className="hint">{channel.topic}</p>}
      </header>
      {newest.status === 'loading' && !newest.data && <LoadingState label="Loading messages…" />}
      {newest.status === 'error' && <ErrorState title="Could not load the messages." error={newest.error} onRetry={newest.reload} />}
      {cursor && (
        <button type="button" className="secondary load-older" onClick={() => void loadOlder()}>
          Load older messages
        </button>
      )}
      {olderError !== null && <ErrorState title="Could not load older messages." error={olderError} />}
      {newest.data && messages.length === 0 && <EmptyState>No messages yet. Say hello!</EmptyState>}
      {messages.length > 0 && (
        // the log region wraps the list: role="log" on the <ol> itself would strip its list semantics
        <div role="log" aria-label={`Messages in #${channel.name}`}>
          <ol className="message-list">
            {messages.map((message) => (
              <MessageItem key={message.id} message={message} names={names}>
                <MessageAttachments api={api} messageId={message.id} version={props.version + attached} />
                <button
                  type="button"
                  className="link"
                  aria-expanded={props.openThreadId === message.id}
                  onClick={() => props.onOpenThread(message.id)}
                >
                  {message.followup_count === 0
                    ? 'Reply'
                    : `${message.followup_count} ${message.followup_count === 1 ? 'reply' : 'replies'}`}
                </button>
              </MessageItem>
            ))}
          </ol>
        </div>
      )}
      <Composer
        label={`Message #${channel.name}`}
        submitLabel="Send"
        disabled={channel.archived_at ? 'This channel is archived and read-only.' : undefined}
        onSend={async (body) => {
          if (uploads.some((u) => u.state === 'hashing' || u.state === 'uploading' || u.state === 'verifying')) {
            throw new Error('Wait until the files finish uploading, or remove them.');
          }
          const message = await expectOk(api.api.messages.$post({ json: { channel_id: channel.id, body } }));
          await attachUploads(api, message.id, uploads);
          setUploads([]);
          setAttached((n) => n + 1);
          newest.reload();
        }}
      />
      {!channel.archived_at && <AttachmentPicker api={api} teamId={channel.team_id} uploads={uploads} setUploads={setUploads} />}
    </section>
  );
}

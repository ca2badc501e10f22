// The followups (threaded replies) of one top-level message. Escape closes the panel.
import { useEffect, useRef } from 'react';
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';
import { Composer, MessageItem } from './messages.tsx';

export function ThreadPanel(props: {
  api: ApiClient;
  messageId: string;
  names: Map<string, string>;
  version: number;
  onClose: () => void;
}) {
  const { api, messageId, names, onClose } = props;
  const followups = useResource(
    () => expectOk(api.api.messages[':messageId'].followups.$get({ param: { messageId }, query: { limit: '100' } })),
    [messageId],
    props.version,
  );
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  return (
    <aside
      className="thread"
      aria-labelledby="thread-heading"
      onKeyDown={(event) => {
        if (event.key === 'Escape') onClose();
      }}
    >
      <header className="channel-header">
        <h2 id="thread-heading" ref={heading} tabIndex={-1}>
          Thread
        </h2>
        <button type="button" className="secondary" onClick={onClose} aria-label="Close thread">
          Close
        </button>
      </header>
      {followups.status === 'loading' && !followups.data && <LoadingState label="Loading replies…" />}
      {followups.status === 'error' && (
        <ErrorState title="Could not load the replies." error={followups.error} onRetry={followups.reload} />
      )}
      {followups.data && followups.data.items.length === 0 && <EmptyState>No replies yet.</EmptyState>}
      {followups.data && followups.data.items.length > 0 && (
        <div role="log" aria-label="Replies">
          <ol className="message-list">
            {followups.data.items.map((message) => (
              <MessageItem key={message.id} message={message} names={names} />
            ))}
          </ol>
        </div>
      )}
      <Composer
        label="Reply in thread"
        submitLabel="Reply"
        onSend={async (body) => {
          await expectOk(api.api.messages[':messageId'].followups.$post({ param: { messageId }, json: { body } }));
          followups.reload();
        }}
      />
    </aside>
  );
}

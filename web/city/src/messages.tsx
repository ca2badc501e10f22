// A message as the city shows it, and the composer used for channels and threads.
import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { describeError } from '../../shared/api-errors.ts';
import type { Message } from './types.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function MessageItem({ message, names, children }: { message: Message; names: Map<string, string>; children?: React.ReactNode }) {
  const when = new Date(message.created_at);
  return (
    <li className="message" data-message-id={message.id}>
      <div className="message-meta">
        <strong>{names.get(message.author_id) ?? 'Someone'}</strong>{' '}
        <time dateTime={message.created_at}>{Number.isNaN(when.getTime()) ? message.created_at : timeFormat.format(when)}</time>
        {message.edited_at && <span className="hint"> (edited)</span>}
      </div>
      <p className="message-body">{message.body ?? <em className="hint">This message was deleted.</em>}</p>
      {children}
    </li>
  );
}

/** Enter sends, Shift+Enter starts a new line; the field keeps focus after sending. */
export function Composer({
  label,
  submitLabel,
  disabled,
  onSend,
}: {
  label: string;
  submitLabel: string;
  disabled?: string;
  onSend: (body: string) => Promise<void>;
}) {
  const id = useId();
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const send = async () => {
    if (!body.trim() || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await onSend(body);
      setBody('');
    } catch (failure) {
      setError(describeError(failure).message);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  if (disabled) return <p className="hint">{disabled}</p>;
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <textarea
        id={id}
        value={body}
        rows={2}
        maxLength={8000}
        placeholder={`${label} (Enter sends, Shift+Enter for a new line)`}
        aria-describedby={error ? `${id}-error` : undefined}
        aria-invalid={Boolean(error)}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={busy || !body.trim()}>
        {busy ? 'Sending…' : submitLabel}
      </button>
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

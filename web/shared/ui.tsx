// Building blocks both apps share: labelled fields, and the loading, empty and error states every view
// shows while it waits for, lacks or fails to get its data.
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { describeError } from './api-errors.ts';

export function Field(props: {
  label: string;
  hint?: string;
  error?: string;
  children: (control: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: Boolean(props.error) })}
      {props.hint && (
        <span className="hint" id={hintId}>
          {props.hint}
        </span>
      )}
      {props.error && (
        <span className="field-error" id={errorId}>
          {props.error}
        </span>
      )}
    </div>
  );
}

export function LoadingState({ label }: { label: string }) {
  return (
    <p className="state" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="state">{children}</p>;
}

export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const { message, requestId } = describeError(error);
  return (
    <div className="state error" role="alert">
      <p>
        <strong>{title ?? 'Something went wrong.'}</strong> {message}
      </p>
      {requestId && <p className="request-id">Request id: {requestId}</p>}
      {onRetry && (
        <button type="button" className="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export type Resource<T> =
  | { status: 'loading'; data?: T; reload: () => void }
  | { status: 'ready'; data: T; reload: () => void }
  | { status: 'error'; error: unknown; data?: T; reload: () => void };

/**
 * Loads data for a view. `identity` says what the view shows (a channel id…): when it changes the old data
 * goes and the loading state shows. `version` says the data went stale (a live event, a timer): the view
 * reloads in place, keeping what it shows until the new answer arrives. A late answer for old inputs is dropped.
 */
export function useResource<T>(load: (() => Promise<T>) | null, identity: unknown[], version = 0): Resource<T> {
  const [state, setState] = useState<{ status: 'loading' | 'ready' | 'error'; data?: T; error?: unknown }>({ status: 'loading' });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const shown = useRef<unknown[] | null>(null);

  const run = useCallback((keepData: boolean) => {
    const current = loadRef.current;
    const mine = ++generation.current;
    if (!current) return;
    setState((previous) => ({
      status: keepData && previous.data !== undefined ? previous.status : 'loading',
      data: keepData ? previous.data : undefined,
    }));
    current().then(
      (data) => mine === generation.current && setState({ status: 'ready', data }),
      (error: unknown) => mine === generation.current && setState((previous) => ({ status: 'error', error, data: previous.data })),
    );
  }, []);

  useEffect(() => {
    const previous = shown.current;
    const sameSubject =
      previous !== null && previous.length === identity.length && identity.every((value, i) => Object.is(value, previous[i]));
    shown.current = identity;
    run(sameSubject);
    // the effect's inputs are the caller's identity values and the version
  }, [...identity, version]);
  const reload = useCallback(() => run(true), [run]);

  if (state.status === 'ready') return { status: 'ready', data: state.data as T, reload };
  if (state.status === 'error') return { status: 'error', error: state.error, data: state.data, reload };
  return { status: 'loading', data: state.data, reload };
}

/** The states of a resource before its data can be shown: failed (with a retry), first load, or empty.
    `isEmpty` says when loaded data has nothing to show; the caller renders the data itself. */
export function ResourceStates<T>(props: {
  resource: Resource<T>;
  loading: string;
  failed: string;
  empty?: { when: (data: T) => boolean; text: ReactNode };
}) {
  const { resource, empty } = props;
  return (
    <>
      {resource.status === 'error' && <ErrorState title={props.failed} error={resource.error} onRetry={resource.reload} />}
      {resource.status === 'loading' && resource.data === undefined && <LoadingState label={props.loading} />}
      {empty && resource.data !== undefined && empty.when(resource.data) && <EmptyState>{empty.text}</EmptyState>}
    </>
  );
}

/** A table's column headings. */
export function ColumnHeads({ names }: { names: string[] }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th scope="col" key={name}>
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** Who is signed in, with the way out; `children` come first (e.g. the live connection's state). */
export function SignedInAs({ email, onSignOut, children }: { email: string; onSignOut: () => void; children?: ReactNode }) {
  return (
    <div className="who">
      {children}
      <span>{email}</span>
      <button type="button" className="secondary" onClick={onSignOut}>
        Sign out
      </button>
    </div>
  );
}

// Client of the gateway's live feed (GET /api/live, Server-Sent Events). It uses fetch rather than
// EventSource so the access token travels in the Authorization header, not in a URL that proxies log.
// Events carry ids only; the app fetches what changed through the normal API, under the same RLS.
// The stream is reopened after any break (with backoff); `onReady` fires on every (re)open so a view
// can refetch what it may have missed meanwhile.

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export interface LiveEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
}

export interface LiveFeedOptions {
  url: string;
  accessToken: () => Promise<string | null>;
  onEvent: (event: LiveEvent) => void;
  onStatus: (status: LiveStatus) => void;
  onReady?: () => void;
}

const MAX_BACKOFF_MS = 15_000;

/** Opens the feed; returns a function that closes it for good. */
export function openLiveFeed(options: LiveFeedOptions): () => void {
  const controller = new AbortController();
  void run(options, controller.signal);
  return () => controller.abort();
}

async function run(options: LiveFeedOptions, signal: AbortSignal): Promise<void> {
  let failures = 0;
  options.onStatus('connecting');
  while (!signal.aborted) {
    try {
      const token = await options.accessToken();
      if (!token) return;
      const response = await fetch(options.url, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
        signal,
        cache: 'no-store',
      });
      if (!response.ok || !response.body) throw new Error(`live feed answered ${response.status}`);
      await readEvents(response.body, signal, (name, data, id) => {
        if (name === 'ready') {
          failures = 0;
          options.onStatus('live');
          options.onReady?.();
          return;
        }
        try {
          options.onEvent({ id, type: name, payload: JSON.parse(data) as Record<string, unknown> });
        } catch {
          // an event we cannot parse is skipped; the next refetch shows the truth anyway
        }
      });
    } catch {
      if (signal.aborted) return;
    }
    if (signal.aborted) return;
    options.onStatus('reconnecting');
    failures += 1;
    await delay(Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 5)), signal);
  }
}

/** Parses a text/event-stream body (WHATWG SSE framing) and calls `dispatch` per event. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  dispatch: (name: string, data: string, id: string) => void,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
  let buffer = '';
  let name = 'message';
  let data: string[] = [];
  let id = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) dispatch(name, data.join('\n'), id);
        name = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = fieldValue;
      else if (field === 'data') data.push(fieldValue);
      else if (field === 'id') id = fieldValue;
    }
  }
}

const delay = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

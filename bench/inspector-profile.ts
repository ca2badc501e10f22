// A V8 CPU profile of another process through its inspector (Chrome DevTools Protocol): for runtimes without
// --cpu-prof, such as the gateway under Deno started with --inspect. The .cpuprofile it writes reads with
// bench/cpu-profile.ts. Needs a WebSocket client: Node 20 runs it with --experimental-websocket.
import { writeFileSync } from 'node:fs';

export interface InspectorProfiler {
  /** Stops sampling and writes the profile to `file`. */
  stop(file: string): Promise<void>;
}

/** Connects to the inspector on 127.0.0.1:`port` and starts sampling every `intervalMicros`. */
export async function startInspectorProfile(port: number, intervalMicros = 200): Promise<InspectorProfiler> {
  if (typeof WebSocket === 'undefined')
    throw new Error('no WebSocket client: run this benchmark with node --experimental-websocket (Node 20)');
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  if (!targets[0]) throw new Error(`the inspector on port ${port} lists no target`);
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', () => reject(new Error(`could not connect to the inspector on port ${port}`)), { once: true });
  });
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  let nextId = 0;
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: intervalMicros });
  await send('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await send('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      socket.close();
    },
  };
}

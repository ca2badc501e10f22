// The memory reference of bench:live (not part of the app): the least a Deno process can hold per idle
// Server-Sent Events stream — Deno.serve, one ReadableStream per request that writes a `ready` event and then
// a keepalive comment every 15 s from its own timer, as the gateway's streams do. No framework, no auth, no hub.
//   deno run --allow-net --allow-env bench/live/bare-sse-server.ts   (prints "listening <port>" on stdout)
const KEEPALIVE_MS = 15_000;
const encoder = new TextEncoder();

const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, () => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode('event: ready\ndata: {}\n\n'));
      const keepalive = () => {
        controller.enqueue(encoder.encode(': keepalive\n\n'));
        timer = setTimeout(keepalive, KEEPALIVE_MS);
      };
      timer = setTimeout(keepalive, KEEPALIVE_MS);
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
});
Deno.addSignalListener('SIGTERM', () => void server.shutdown().then(() => Deno.exit(0)));

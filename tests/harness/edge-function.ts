// Runs the Edge Function entry, functions/api/index.ts, the way Supabase's Edge Runtime does — the global
// EdgeRuntime.waitUntil present, Deno.serve without a port (DENO_SERVE_ADDRESS=tcp:127.0.0.1:<port> says where
// it listens) — so tests exercise index.ts itself. Each settled waitUntil promise is printed as a JSON line.
// Run: deno run --allow-net --allow-env --allow-read --allow-sys tests/harness/edge-function.ts
(globalThis as { EdgeRuntime?: { waitUntil(promise: Promise<unknown>): void } }).EdgeRuntime = {
  waitUntil(promise) {
    void promise.then(
      () => console.log(JSON.stringify({ level: 'debug', msg: 'edge-runtime: waitUntil settled' })),
      (error: unknown) => console.log(JSON.stringify({ level: 'debug', msg: 'edge-runtime: waitUntil rejected', error: String(error) })),
    );
  },
};
// a URL, not a literal path: Node's type check leaves the Deno entry alone
await import(new URL('../../functions/api/index.ts', import.meta.url).href);

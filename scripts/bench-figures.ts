// Rewrites the README's benchmark figures (between the bench-figures markers) from the figures the
// benchmarks wrote to bench/results/*.json (npm run bench:api, bench:relay, bench:live, bench:gifts), so the table says
// what was measured and nothing typed by hand.
//   npm run bench:figures [-- --dry-run] [--check]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR } from '../bench/results.ts';

const USAGE = `Usage: npm run bench:figures -- [--dry-run] [--check]
  --dry-run  print the table it would write, change nothing
  --check    exit 1 if the README's table differs from the figures in bench/results/`;
const { values: options } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const README = join(RESULTS_DIR, '../../README.md');
const START = '<!-- bench-figures:start (written by npm run bench:figures from bench/results/*.json) -->';
const END = '<!-- bench-figures:end -->';

type Figures = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- read back from our own JSON

function read(name: string): Figures | undefined {
  const file = join(RESULTS_DIR, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Figures) : undefined;
}

const whole = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : whole(n)} ms`;
const ratio = (n: number) => `**${n.toFixed(2)}×**`;
const verdict = (met: boolean) => (met ? 'met' : 'not met');
const when = (f: Figures) => `${f.measured_at.slice(0, 10)}, load ${f.load_at_end}`;
const missing = (bench: string) => `not measured yet: \`npm run ${bench}\``;

function rows(): string[] {
  const lines: string[] = [];
  const api = read('api');
  lines.push(
    api
      ? `| \`POST /api/messages\` through the gateway vs \`pgbench\` of the same transaction (${api.concurrency} connections) | ${whole(api.gateway.throughput)} vs ${whole(api.pgbench.throughput)} per s: ${ratio(api.ratio_gateway_to_pgbench)}; gateway p99 ${ms(api.gateway.p99)} | ≥ 0.6× (${verdict(api.ratio_gateway_to_pgbench >= 0.6)}) | ${when(api)} |`
      : `| \`POST /api/messages\` through the gateway vs \`pgbench\` | ${missing('bench:api')} | ≥ 0.6× | |`,
  );
  if (api?.pgbench_bare_insert) {
    lines.push(
      `| the message transaction vs a bare one-row insert transaction (both \`pgbench\`) | ${whole(api.pgbench.throughput)} vs ${whole(api.pgbench_bare_insert.throughput)} per s: ${ratio(api.ratio_message_to_bare_insert)} | ≥ 0.4× (${verdict(api.ratio_message_to_bare_insert >= 0.4)}) | ${when(api)} |`,
    );
  }
  const relay = read('relay');
  lines.push(
    relay
      ? `| outbox drain, ${whole(relay.events)} events, vs raw async JetStream publish | ${whole(relay.relay_events_per_s)} vs ${whole(relay.raw_async_events_per_s)} events/s: ${ratio(relay.ratio_relay_to_raw_async)}; CPU per event: relay ${relay.relay_cpu_us_per_event.toFixed(1)} µs, Postgres ${relay.postgres_cpu_us_per_event.toFixed(1)} µs, raw publisher ${relay.raw_async_cpu_us_per_event.toFixed(1)} µs | ≥ 0.5×, relay ≤ 25 µs, Postgres ≤ 20 µs (${verdict(relay.ratio_relay_to_raw_async >= 0.5 && relay.relay_cpu_us_per_event <= 25 && relay.postgres_cpu_us_per_event <= 20)}) | ${when(relay)} |`
      : `| outbox drain vs raw async JetStream publish | ${missing('bench:relay')} | ≥ 0.5× | |`,
    relay
      ? `| commit → stream, producer asked for ${whole(relay.latency_rate)} events/s${relay.latency_achieved_rate === undefined ? '' : ` (achieved ${whole(relay.latency_achieved_rate)})`} | p50 ${ms(relay.latency_p50_ms)}, p99 ${ms(relay.latency_p99_ms)} | p99 ≤ 50 ms (${verdict(relay.latency_p99_ms <= 50)}) | ${when(relay)} |`
      : `| commit → stream at 2,000 events/s | ${missing('bench:relay')} | p99 ≤ 50 ms | |`,
  );
  const live = read('live');
  lines.push(
    live
      ? `| live: post → SSE event at ${whole(live.clients)} clients at ${live.rate} messages/s, vs a core NATS subscriber of the same events | p50 ${ms(live.live.p50)}, p99 ${ms(live.live.p99)} vs p50 ${ms(live.nats.p50)}, p99 ${ms(live.nats.p99)}: ${ratio(live.p99_ratio)} at p99; the hub and streams add p50 ${ms(live.fan_out.p50)}, p99 ${ms(live.fan_out.p99)} | p99 ≤ 100 ms (${verdict(live.live.p99 <= 100)}) | ${when(live)} |`
      : `| live: post → SSE event at 1,000 clients | ${missing('bench:live')} | p99 ≤ 100 ms | |`,
    live
      ? `| live: gateway memory per idle stream (RSS growth / streams)${live.bare_deno_kb_per_idle_stream ? ', vs a bare Deno.serve SSE server with as many streams' : ''} | ${live.kb_per_idle_stream.toFixed(0)} KB${live.bare_deno_kb_per_idle_stream ? ` vs ${live.bare_deno_kb_per_idle_stream.toFixed(0)} KB: ${ratio(live.kb_per_idle_stream / live.bare_deno_kb_per_idle_stream)}` : ''} | ≤ 50 KB (${verdict(live.kb_per_idle_stream <= 50)}) | ${when(live)} |`
      : `| live: gateway memory per idle stream | ${missing('bench:live')} | ≤ 50 KB | |`,
  );
  const gifts = read('gifts');
  lines.push(
    gifts
      ? `| gifts, request → delivered (${whole(gifts.gifts)} gifts, ${gifts.concurrency} senders; relay and gift-fabric consumer as processes) vs a bare ledger insert of the same movement | ${whole(gifts.gifts_per_s)} vs ${whole(gifts.bare_ledger_inserts_per_s)} per s: ${ratio(gifts.ratio_gifts_to_bare_ledger_insert)}; sent → delivered at ${whole(gifts.paced_rate_per_s)} gifts/s p50 ${ms(gifts.request_to_delivered_p50_ms)}, p99 ${ms(gifts.request_to_delivered_p99_ms)} | none set | ${when(gifts)} |`
      : `| gifts, request → delivered vs a bare ledger insert | ${missing('bench:gifts')} | none set | |`,
  );
  return lines;
}

const table = [
  START,
  '| benchmark | measured (ratio to the same run’s reference) | target | measured on |',
  '|---|---|---|---|',
  ...rows(),
  END,
].join('\n');
const text = readFileSync(README, 'utf8');
const start = text.indexOf(START);
const end = text.indexOf(END);
if (start === -1 || end < start) {
  console.error(`bench-figures: README.md has no section between\n  ${START}\nand\n  ${END}\nput those two lines where the table goes.`);
  process.exit(1);
}
const updated = text.slice(0, start) + table + text.slice(end + END.length);
if (options['dry-run']) {
  console.log(table);
} else if (options.check) {
  if (updated !== text) {
    console.error('bench-figures: the README table differs from bench/results/*.json; run npm run bench:figures');
    process.exit(1);
  }
  console.log('bench-figures: the README table matches bench/results/*.json');
} else {
  writeFileSync(README, updated);
  console.log(`bench-figures: README.md figures rewritten from ${RESULTS_DIR}`);
}

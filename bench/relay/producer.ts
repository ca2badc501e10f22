// Benchmark producer (bench/relay/run.ts starts it as its own process): enqueues message.created events
// through app.enqueue_event at a steady rate, one event per transaction, and prints one JSON line per
// event with the moment its commit returned (ms since the epoch, sub-millisecond).
//   node --import tsx bench/relay/producer.ts <database-url> <events-per-second> <seconds> <aggregates>
import postgres from 'postgres';
import { messageCreated } from '../../tests/relay/support/events.ts';

const [url, rateArg, secondsArg, aggregatesArg] = process.argv.slice(2);
if (!url || !rateArg || !secondsArg || !aggregatesArg) {
  console.error('usage: producer.ts <database-url> <events-per-second> <seconds> <aggregates>');
  process.exit(2);
}
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const aggregates = Number(aggregatesArg);
// prepared statements: the load generator should spend as little of the machine as it can
const sql = postgres(url, { max: Number(process.env.BENCH_PRODUCER_CONNECTIONS ?? 32), prepare: true, onnotice: () => {} });
const now = () => performance.timeOrigin + performance.now();
const lines: string[] = [];

async function produceOne(n: number): Promise<void> {
  const aggregateId = `bench-${n % aggregates}`;
  const payload = messageCreated();
  const [row] = await sql<{ id: string }[]>`
    select app.enqueue_event('message.created', 'message', ${aggregateId}, ${sql.json(payload)}::jsonb, ${`bench-${n}`}) as id`;
  lines.push(JSON.stringify({ id: row!.id, committedAtMs: now() }));
}

await sql`select 1`;
const started = now();
const inFlight = new Set<Promise<void>>();
let sent = 0;
while (sent < total) {
  const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate));
  while (sent < due) {
    const p: Promise<void> = produceOne(sent).finally(() => inFlight.delete(p));
    inFlight.add(p);
    sent += 1;
  }
  if (lines.length > 500) process.stdout.write(lines.splice(0).join('\n') + '\n');
  await new Promise((resolve) => setTimeout(resolve, 2));
}
await Promise.all(inFlight);
if (lines.length) process.stdout.write(lines.join('\n') + '\n');
await sql.end();

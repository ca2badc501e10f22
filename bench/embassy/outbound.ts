// Benchmark (not a test): outbound Embassy webhooks through the Embassy consumer's sender (claim due rows with
// a lease, sign with standardwebhooks, POST, record the outcome) next to a baseline measured in the same run:
// the same bodies POSTed unsigned to the same local endpoint with the same concurrency (the batch size), no
// database. Prints deliveries/s of each and the ratio; the sides alternate per round, so load affects both.
//
//   npm run bench:embassy-outbound -- [--deliveries 400] [--rounds 2] [--dry-run]
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { parseSecrets } from '../../functions/_shared/embassy/signatures.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { OutboundSender } from '../../workers/consumers/embassy/outbound-sender.ts';

const USAGE = `Usage: npm run bench:embassy-outbound -- [--deliveries 400] [--rounds 2] [--dry-run]
Environment: TEST_PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres).`;
const { values: options } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '2' },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const count = Number(options.deliveries);
const rounds = Number(options.rounds);
const BATCH = 20;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`bench: --deliveries and --rounds must be whole numbers above 0\n${USAGE}\n`);
  process.exit(2);
}
if (options['dry-run']) {
  process.stdout.write(
    `would create a database, migrate it, then ${rounds} × (sender: ${count} signed deliveries, baseline: ${count} bare POSTs) at ${BATCH} concurrent\n`,
  );
  process.exit(0);
}

const adminUrl = process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `mdao_bench_outbound_${Date.now().toString(36)}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database "${name}"`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const SECRET = 'whsec_YmVuY2gtb25seS1ncmVlbmZvb2Qtc2VjcmV0LTAxMjM0NTY3ODlhYmM=';
// the partner's endpoint: reads the body, answers 204
const endpoint = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
const endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/greenfood/webhooks`;

try {
  process.stderr.write(`bench: migrating ${name}\n`);
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', `${url.toString()}?sslmode=disable`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const sql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  await sql`update public.embassies set endpoint_url = ${endpointUrl} where partner = 'greenfood'`;
  const secrets = parseSecrets(SECRET);
  const sender = new OutboundSender({
    sql,
    secretsOf: () => secrets,
    maxAttempts: 8,
    backoffBaseMs: 1000,
    backoffMaxMs: 60_000,
    timeoutMs: 5000,
    batchSize: BATCH,
    logger: createLogger({ level: 'error', sink: () => {} }),
  });
  const body = (n: number) => ({
    type: 'rwa.inventory_changed',
    timestamp: new Date().toISOString(),
    data: { team_id: '00000000-0000-4000-8000-0000000d3a00', partner: 'greenfood', asset_kind: 'food_lot', quantity: String(n) },
  });

  const runSender = async () => {
    await sql`
      insert into public.embassy_outbound_deliveries (partner, event_id, event_type, payload)
      select 'greenfood', gen_random_uuid(), 'rwa.inventory_changed', ${sql.json(body(1))} from generate_series(1, ${count})`;
    const started = performance.now();
    let delivered = 0;
    while (delivered < count) {
      const outcomes = await sender.deliverDue();
      if (outcomes.length === 0) throw new Error('no due delivery left before all were delivered');
      delivered += outcomes.filter((o) => o.outcome === 'delivered').length;
    }
    return count / ((performance.now() - started) / 1000);
  };
  const runBaseline = async () => {
    const started = performance.now();
    for (let sent = 0; sent < count; sent += BATCH) {
      await Promise.all(
        Array.from({ length: Math.min(BATCH, count - sent) }, async (_, i) => {
          const response = await fetch(endpointUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body(sent + i)),
          });
          await response.text();
        }),
      );
    }
    return count / ((performance.now() - started) / 1000);
  };

  await runBaseline(); // warm-up of fetch's connection pool
  const senderRates: number[] = [];
  const baselineRates: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    senderRates.push(await runSender());
    baselineRates.push(await runBaseline());
    process.stderr.write(
      `bench: round ${round}: sender ${senderRates.at(-1)!.toFixed(0)}/s, baseline ${baselineRates.at(-1)!.toFixed(0)}/s\n`,
    );
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  process.stdout.write(
    `outbound webhooks: ${mean(senderRates).toFixed(0)} deliveries/s signed, leased and recorded; ` +
      `baseline ${mean(baselineRates).toFixed(0)} bare POSTs/s to the same endpoint; ratio ${(mean(senderRates) / mean(baselineRates)).toFixed(2)}×\n`,
  );
  await sql.end();
} finally {
  endpoint.close();
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
}

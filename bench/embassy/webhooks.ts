// Benchmark (not a test): verified inbound partner webhooks through the gateway (Node, over keep-alive HTTP;
// Standard Webhooks verification, zod schema, delivery row + outbox event in one transaction) next to a
// baseline measured in the same run on the same database: the bare transaction (insert the delivery row,
// enqueue its event) through postgres.js with the same pool size and concurrency. Prints webhooks/s, p50/p99
// of each, and the ratio. The two sides alternate per round, so the machine's load affects both.
//
//   npm run bench:embassy -- [--concurrency 16] [--duration 8] [--rounds 2] [--dry-run]
import { serve } from '@hono/node-server';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createApp } from '../../functions/api/app.ts';
import { createGatewayDeps } from '../../functions/api/gateway.ts';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase } from '../../functions/_shared/db.ts';
import { parseSecrets, signWebhook } from '../../functions/_shared/embassy/signatures.ts';
import { createLogger } from '../../functions/_shared/log.ts';

const USAGE = `Usage: npm run bench:embassy -- [--concurrency 16] [--duration 8] [--rounds 2] [--dry-run]
Environment: TEST_PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres).`;
const { values: options } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const concurrency = Number(options.concurrency);
const durationMs = Number(options.duration) * 1000;
const rounds = Number(options.rounds);
if (options['dry-run']) {
  process.stdout.write(
    `would create a database, migrate it, then ${rounds} × (gateway ${options.duration} s, bare transaction ${options.duration} s) at ${concurrency} concurrent\n`,
  );
  process.exit(0);
}

const adminUrl = process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const name = `mdao_bench_embassy_${Date.now().toString(36)}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database "${name}"`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const SECRET = 'whsec_YmVuY2gtb25seS1lbmVyZ3ktdW5pb24tc2VjcmV0LTAxMjM0NTY3ODk=';
const TEAM = '00000000-0000-4000-8000-0000000d3a00';

try {
  process.stderr.write(`bench: migrating ${name}\n`);
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', `${url.toString()}?sslmode=disable`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const config = loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: 'error',
    DB_HOST: url.hostname,
    DB_PORT: url.port || '5432',
    DB_NAME: name,
    DB_USER: decodeURIComponent(url.username) || 'postgres',
    DB_POOL_MAX: String(concurrency),
    JWT_SECRET: 'bench-only-jwt-secret-0123456789abcdefghijklmnop',
    EMBASSY_WEBHOOK_SECRET_ENERGY_UNION: SECRET,
  });
  const sql = createDatabase(config);
  const app = createApp(
    createGatewayDeps({
      config,
      sql,
      logger: createLogger({ level: 'error', sink: () => {} }),
      rateLimiter: null,
      expectedMigration: null,
    }),
  );
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const secrets = parseSecrets(SECRET);
  let counter = 0;
  const event = () => {
    const at = new Date().toISOString();
    return JSON.stringify({
      type: 'energy.produced',
      timestamp: at,
      data: { team_id: TEAM, meter_id: 'bench', kwh: '1.5', occurred_at: at },
    });
  };

  const sendWebhook = () =>
    new Promise<void>((resolve, reject) => {
      const body = event();
      const headers = signWebhook(secrets, `bench_${process.pid}_${counter++}`, body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/embassy/energy-union/webhooks',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const bare = postgres(url.toString(), { max: concurrency, prepare: false, onnotice: () => {} });
  const insertBare = async () => {
    const id = crypto.randomUUID();
    const body = JSON.parse(event()) as postgres.JSONValue;
    await bare.begin(async (tx) => {
      await tx`
        insert into public.embassy_webhook_deliveries (id, partner, webhook_id, event_type, team_id, payload, signature_outcome, status, answer_status, answer_body)
        values (${id}, 'energy-union', ${`bare_${counter++}`}, 'energy.produced', ${TEAM}, ${tx.json(body)}, 'verified', 'accepted', 202, ${tx.json({ delivery_id: id })})`;
      await tx`select app.enqueue_event('embassy.webhook_received', 'embassy_delivery', ${id}, ${tx.json({ delivery_id: id, partner: 'energy-union', webhook_id: 'x', event_type: 'energy.produced', team_id: TEAM })}::jsonb, 'bench', 1)`;
    });
  };

  async function measure(label: string, once: () => Promise<void>) {
    const latencies: number[] = [];
    const deadline = performance.now() + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const started = performance.now();
          await once();
          latencies.push(performance.now() - started);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return { label, rate: latencies.length / (durationMs / 1000), p50: pick(0.5), p99: pick(0.99) };
  }

  // warm-up: the first requests pay for JIT and connections
  for (let i = 0; i < 50; i += 1) await Promise.all([sendWebhook(), insertBare()]);
  const results: Awaited<ReturnType<typeof measure>>[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    results.push(await measure('gateway', sendWebhook));
    results.push(await measure('bare', insertBare));
  }
  const fmt = (r: Awaited<ReturnType<typeof measure>>) => `${r.rate.toFixed(0)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`;
  for (let round = 0; round < rounds; round += 1) {
    const gateway = results[round * 2]!;
    const baseline = results[round * 2 + 1]!;
    process.stdout.write(
      `round ${round + 1}: verified webhooks through the gateway ${fmt(gateway)} | bare transaction ${fmt(baseline)} | ratio ${(gateway.rate / baseline.rate).toFixed(2)}×\n`,
    );
  }
  agent.destroy();
  await new Promise((resolve) => server.close(resolve));
  await Promise.all([sql.end({ timeout: 5 }), bare.end({ timeout: 5 })]);
} finally {
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
}

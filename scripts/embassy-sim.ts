// The partner simulator: signs each partner's sample events (functions/_shared/embassy/partner-events.ts) to
// the Standard Webhooks spec with the partner's secret and sends them to any gateway, printing each answer.
//   npm run embassy:sim -- --team <uuid> [--base-url http://127.0.0.1:54321/api] [--partner energy-union]
//                          [--forged] [--env-file .env] [--dry-run]
// With --receive PORT it plays the partner's side of outbound webhooks instead: it listens on
// http://127.0.0.1:PORT/<partner>/webhooks (set that as the partner's endpoint_url) and verifies each
// webhook's signature (scripts/embassy-receiver.ts).
// Secrets come from EMBASSY_WEBHOOK_SECRET_<PARTNER> (environment or --env-file), never from arguments.
import { readEnvFile } from '../functions/_shared/env-file.ts';
import { isPartner, PARTNERS, sampleEvents, type Partner } from '../functions/_shared/embassy/partner-events.ts';
import { parseSecrets, secretVariableOf, signWebhook } from '../functions/_shared/embassy/signatures.ts';
import { startOutboundReceiver } from './embassy-receiver.ts';

const USAGE = `usage: embassy-sim --team <team uuid> [--base-url URL] [--partner NAME]... [--forged] [--env-file FILE] [--dry-run]
  Signs each partner's sample events with EMBASSY_WEBHOOK_SECRET_<PARTNER> and POSTs them to
  <base-url>/embassy/<partner>/webhooks (default base URL http://127.0.0.1:54321/api).
  --partner   only this partner (repeatable; default: every partner with a secret)
  --forged    also send one webhook signed with a wrong secret per partner (expect 401)
  --dry-run   print what would be sent, send nothing
usage: embassy-sim --receive <port> [--fail-first N] [--fail-always] [--count N] [--env-file FILE]
  Receives outbound webhooks on http://127.0.0.1:<port>/<partner>/webhooks and verifies each signature with
  that partner's EMBASSY_WEBHOOK_SECRET_<PARTNER>; prints one line per webhook; runs until Ctrl-C.
  --fail-first N  answer 503 to the first N attempts of every webhook id (to watch the retries)
  --fail-always   answer 503 to everything (to watch a delivery end dead-lettered)
  --count N       exit after N verified webhooks (exit 1 if any signature was refused)`;

function fail(message: string): never {
  process.stderr.write(`embassy-sim: error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const options = {
  baseUrl: 'http://127.0.0.1:54321/api',
  team: '',
  partners: [] as Partner[],
  forged: false,
  dryRun: false,
  envFile: '',
  receive: undefined as number | undefined,
  failFirst: 0,
  failAlways: false,
  count: undefined as number | undefined,
};
const wholeNumber = (arg: string, text: string, min: number, max: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${arg} must be a whole number from ${min} to ${max}, not ${text}`);
  return n;
};
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i]!;
  const value = () => args[++i] ?? fail(`${arg} needs a value`);
  if (arg === '--base-url') options.baseUrl = value().replace(/\/$/, '');
  else if (arg === '--team') options.team = value();
  else if (arg === '--partner') {
    const partner = value();
    if (!isPartner(partner)) fail(`unknown partner ${partner}; the partners are ${PARTNERS.join(', ')}`);
    options.partners.push(partner);
  } else if (arg === '--forged') options.forged = true;
  else if (arg === '--dry-run') options.dryRun = true;
  else if (arg === '--env-file') options.envFile = value();
  else if (arg === '--receive') options.receive = wholeNumber(arg, value(), 1, 65535);
  else if (arg === '--fail-first') options.failFirst = wholeNumber(arg, value(), 0, 1000);
  else if (arg === '--fail-always') options.failAlways = true;
  else if (arg === '--count') options.count = wholeNumber(arg, value(), 1, 1_000_000);
  else fail(`unknown argument ${arg}`);
}

const variables: Record<string, string | undefined> = options.envFile ? { ...process.env, ...readEnvFile(options.envFile) } : process.env;

if (options.receive !== undefined) {
  let verified = 0;
  let refused = 0;
  const receiver = await startOutboundReceiver({
    port: options.receive,
    secretsOf: (partner) => parseSecrets(variables[secretVariableOf(partner)]),
    failFirst: options.failFirst,
    failAlways: options.failAlways,
    onWebhook: (webhook) => {
      const type = (webhook.body as { type?: unknown } | null)?.type ?? '?';
      const why = webhook.refusal ? ` (${webhook.refusal})` : '';
      process.stdout.write(
        `${webhook.outcome.padEnd(17)} ${webhook.partner} ${String(type)} webhook-id=${webhook.webhookId} → ${webhook.status}${why}\n`,
      );
      if (webhook.outcome === 'refused') refused += 1;
      if (webhook.outcome === 'verified') verified += 1;
      if (options.count !== undefined && verified >= options.count) void receiver.close().then(() => process.exit(refused ? 1 : 0));
    },
  }).catch((error: Error) => fail(`cannot listen on port ${options.receive} (${error.message}); pick a free port`));
  process.stdout.write(`receiving outbound webhooks at ${receiver.url}/<partner>/webhooks; Ctrl-C to stop\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => void receiver.close().then(() => process.exit(refused ? 1 : 0)));
  await new Promise(() => {});
}

if (!/^[0-9a-f-]{36}$/i.test(options.team)) fail('--team must be the uuid of a team the partner is linked to');
const partners = options.partners.length ? options.partners : PARTNERS.filter((partner) => variables[secretVariableOf(partner)]);
if (partners.length === 0) fail('no EMBASSY_WEBHOOK_SECRET_* is set: export them or pass --env-file');

const FORGED_SECRET = 'whsec_ZW1iYXNzeS1zaW0tZm9yZ2VkLXNpZ25hdHVyZS0wMTIzNDU2Nzg5YQ==';
let unexpected = 0;
for (const partner of partners) {
  const secret = variables[secretVariableOf(partner)];
  if (!secret) fail(`${secretVariableOf(partner)} is not set`);
  const sends = sampleEvents(partner, options.team).map((sample) => ({ ...sample, secret, expect: 202 }));
  if (options.forged) sends.push({ ...sends[0]!, secret: FORGED_SECRET, expect: 401 });
  for (const send of sends) {
    const id = `sim_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const body = JSON.stringify(send.body);
    const url = `${options.baseUrl}/embassy/${partner}/webhooks`;
    const label = `${partner} ${send.type}${send.expect === 401 ? ' (forged)' : ''}`;
    if (options.dryRun) {
      process.stdout.write(`would POST ${url} webhook-id=${id} ${label}, expecting ${send.expect}\n`);
      continue;
    }
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook(parseSecrets(send.secret), id, body) },
      body,
    }).catch((error: Error) => fail(`${url} did not answer (${error.message}); is the gateway running?`));
    const text = await response.text();
    if (response.status !== send.expect) unexpected += 1;
    process.stdout.write(`${response.status === send.expect ? 'ok  ' : 'FAIL'} ${label}: ${response.status} ${text.slice(0, 200)}\n`);
  }
}
if (unexpected) {
  process.stderr.write(`embassy-sim: ${unexpected} answer(s) were not what a correct gateway gives; see FAIL above\n`);
  process.exit(1);
}

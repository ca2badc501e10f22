// The partner simulator: signs each partner's sample events (functions/_shared/embassy/partner-events.ts) to
// the Standard Webhooks spec with the partner's secret and sends them to any gateway, printing each answer.
//   npm run embassy:sim -- --team <uuid> [--base-url http://127.0.0.1:54321/api] [--partner energy-union]
//                          [--forged] [--env-file .env] [--dry-run]
// Secrets come from EMBASSY_WEBHOOK_SECRET_<PARTNER> (environment or --env-file), never from arguments.
import { readEnvFile } from '../functions/_shared/env-file.ts';
import { isPartner, PARTNERS, sampleEvents, type Partner } from '../functions/_shared/embassy/partner-events.ts';
import { parseSecrets, secretVariableOf, signWebhook } from '../functions/_shared/embassy/signatures.ts';

const USAGE = `usage: embassy-sim --team <team uuid> [--base-url URL] [--partner NAME]... [--forged] [--env-file FILE] [--dry-run]
  Signs each partner's sample events with EMBASSY_WEBHOOK_SECRET_<PARTNER> and POSTs them to
  <base-url>/embassy/<partner>/webhooks (default base URL http://127.0.0.1:54321/api).
  --partner   only this partner (repeatable; default: every partner with a secret)
  --forged    also send one webhook signed with a wrong secret per partner (expect 401)
  --dry-run   print what would be sent, send nothing`;

function fail(message: string): never {
  process.stderr.write(`embassy-sim: error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const options = { baseUrl: 'http://127.0.0.1:54321/api', team: '', partners: [] as Partner[], forged: false, dryRun: false, envFile: '' };
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
  else fail(`unknown argument ${arg}`);
}
if (!/^[0-9a-f-]{36}$/i.test(options.team)) fail('--team must be the uuid of a team the partner is linked to');

const variables: Record<string, string | undefined> = options.envFile ? { ...process.env, ...readEnvFile(options.envFile) } : process.env;
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

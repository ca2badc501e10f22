// Checklist item "Embassy test call": for every partner whose secret this run has (EMBASSY_WEBHOOK_SECRET_*
// of the smoke's environment — test configuration), link it to the smoke team, send its sample events signed
// to the Standard Webhooks spec, expect them accepted, expect a forged one refused, and wait for the Embassy
// consumer to move the team's inventory by what was sent.
import { PARTNERS, movementOf, sampleEvents } from '../../../../functions/_shared/embassy/partner-events.ts';
import { parseSecrets, secretVariableOf, signWebhook } from '../../../../functions/_shared/embassy/signatures.ts';
import { StepFailure, StepNotCheckable, expectStatus, type SmokeClient } from '../client.ts';
import type { ChecklistContext, ChecklistItem } from './index.ts';

const FORGED_SECRET = 'whsec_c21va2UtY2hlY2stZm9yZ2VkLXNpZ25hdHVyZS0wMTIzNDU2Nzg5YWI=';
const WAIT_MS = 30_000;

interface InventoryItem {
  partner: string;
  asset_kind: string;
  asset_ref: string;
  quantity: string;
}

/** Posts raw signed bytes (the smoke client's JSON helper would re-encode them). */
async function postSigned(api: string, partner: string, secrets: string, body: unknown, id: string) {
  const bytes = JSON.stringify(body);
  const headers = signWebhook(parseSecrets(secrets), id, bytes);
  const response = await fetch(`${api}/embassy/${partner}/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: bytes,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as { error?: { code?: string } } | null };
}

const key = (item: { partner: string; asset_kind: string; asset_ref: string }) => `${item.partner}/${item.asset_kind}/${item.asset_ref}`;

export const embassyCall: ChecklistItem = {
  name: 'Embassy test call',
  routePrefix: '/api/embassy',
  feature: 'the Embassy',
  describe: (api) =>
    `Embassy test call: for each partner with an EMBASSY_WEBHOOK_SECRET_* here, link it to the smoke team, POST its signed sample events to ${api}/embassy/<partner>/webhooks (202), a forged one (401), and wait for the inventory to move`,
  async run(client: SmokeClient, context: ChecklistContext) {
    const teamId = context.teamId;
    if (!teamId) throw new StepFailure('the smoke team is unknown (the chat steps did not run)');
    const configured = PARTNERS.filter((partner) => context.variables[secretVariableOf(partner)]);
    if (configured.length === 0) {
      throw new StepNotCheckable(
        'no EMBASSY_WEBHOOK_SECRET_* is set for this run: give the smoke check the test configuration’s partner secrets',
      );
    }
    const inventory = async () =>
      (expectStatus(await client.request('GET', `${context.api}/teams/${teamId}/rwa/inventory`), 200, 'GET rwa/inventory')
        .items as InventoryItem[]) ?? [];
    const before = new Map((await inventory()).map((item) => [key(item), Number(item.quantity)]));
    const expected = new Map<string, number>();
    for (const partner of configured) {
      const link = await client.request('POST', `${context.api}/teams/${teamId}/embassy/links`, { partner });
      if (link.status !== 201 && link.status !== 409) expectStatus(link, 201, `linking ${partner}`);
      const secrets = context.variables[secretVariableOf(partner)]!;
      for (const [index, sample] of sampleEvents(partner, teamId).entries()) {
        const id = `smoke_${context.stamp}_${partner}_${index}`;
        const sent = await postSigned(context.api, partner, secrets, sample.body, id);
        if (sent.status !== 202)
          throw new StepFailure(`${partner} ${sample.type} answered ${sent.status} (${sent.body?.error?.code}), expected 202`);
        const movement = movementOf(sample.type, sample.body);
        if (movement) {
          const at = key({ partner, asset_kind: movement.assetKind, asset_ref: movement.assetRef });
          expected.set(at, (expected.get(at) ?? before.get(at) ?? 0) + movement.sign * Number(movement.quantity));
        }
      }
      const forged = await postSigned(
        context.api,
        partner,
        FORGED_SECRET,
        sampleEvents(partner, teamId)[0]!.body,
        `smoke_${context.stamp}_${partner}_forged`,
      );
      if (forged.status !== 401 || forged.body?.error?.code !== 'webhook_signature_mismatch') {
        throw new StepFailure(
          `a forged ${partner} webhook answered ${forged.status} (${forged.body?.error?.code}), expected 401 webhook_signature_mismatch`,
        );
      }
    }
    const deadline = Date.now() + WAIT_MS;
    let now = new Map<string, number>();
    while (Date.now() < deadline) {
      now = new Map((await inventory()).map((item) => [key(item), Number(item.quantity)]));
      if ([...expected].every(([at, quantity]) => Math.abs((now.get(at) ?? 0) - quantity) < 1e-6)) {
        return `${configured.length} partner(s) accepted, forged refused, inventory moved: ${[...expected.keys()].join(', ')}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const behind = [...expected].filter(([at, quantity]) => Math.abs((now.get(at) ?? 0) - quantity) >= 1e-6).map(([at]) => at);
    throw new StepFailure(
      `accepted, but the inventory did not move within ${WAIT_MS / 1000} s for ${behind.join(', ')}: is the Embassy consumer (consumer-embassy) running?`,
    );
  },
};

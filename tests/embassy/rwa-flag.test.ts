// The RWA inventory routes behind the `rwa` feature flag (evaluated through OpenFeature at the gateway): on in
// test and dev by the flag's seeded rule, so the routes answer; a platform admin switches the flag off and the
// same routes answer 403 feature_disabled naming the flag, within the flag store's NOTIFY; on again, they answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, expectErrorShape, startTestGateway, type TestGateway } from '../api/helpers.ts';
import { seedIds } from '../harness/database.ts';
import { waitFor } from '../relay/support/relay-env.ts';

let gateway: TestGateway;
let ops: string;
let alice: string;

beforeAll(async () => {
  gateway = await startTestGateway('rwa_flag');
  ops = (await devLogin(gateway.app, 'ops@demo.local')).token;
  alice = (await devLogin(gateway.app, 'alice@demo.local')).token;
});
afterAll(async () => gateway?.close());

const rwaFlag = (enabled: boolean) => ({
  kind: 'boolean',
  description: 'Real-world assets: Embassy events applied to the RWA inventory',
  enabled,
  default_value: false,
  rules: [{ environments: ['local', 'test', 'dev'], value: true }],
});

describe('the rwa feature flag', () => {
  it('gates the inventory routes: 200 while on, 403 feature_disabled while off', async () => {
    const paths = [`/api/teams/${seedIds.demoTeam}/rwa/inventory`, `/api/teams/${seedIds.demoTeam}/rwa/movements`];
    for (const path of paths) expect((await call(gateway.app, 'GET', path, { token: alice })).status).toBe(200);

    const off = await call(gateway.app, 'PUT', '/api/flags/definitions/rwa', { token: ops, body: { flag: rwaFlag(false) } });
    expect(off.status).toBe(200);
    await waitFor(
      'the gateway hears the flag change',
      async () => (await call(gateway.app, 'GET', paths[0]!, { token: alice })).status === 403,
    );
    for (const path of paths) {
      const answer = await call(gateway.app, 'GET', path, { token: alice });
      expect(answer.status).toBe(403);
      const error = expectErrorShape(answer);
      expect(error.code).toBe('feature_disabled');
      expect(error.message).toContain('"rwa"');
    }

    expect((await call(gateway.app, 'PUT', '/api/flags/definitions/rwa', { token: ops, body: { flag: rwaFlag(true) } })).status).toBe(200);
    await waitFor(
      'the gateway hears the flag back on',
      async () => (await call(gateway.app, 'GET', paths[0]!, { token: alice })).status === 200,
    );
  });
});

// Deny by default, proven from the app itself: every route it answers (Hono's route table, so a route added
// tomorrow is covered) declares in its definition the capability it needs or that it is public, the capability
// is one of the catalog's, and the catalog the gateway knows is the one the database enforces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPABILITIES, isCapability } from '../../functions/_shared/capabilities.ts';
import { call, startTestGateway, type TestGateway } from '../api/helpers.ts';
import { appRoutes, type OpenApiDocument } from '../api/routes.ts';

let gateway: TestGateway;
let document: OpenApiDocument;

beforeAll(async () => {
  gateway = await startTestGateway('access_routes');
  document = (await call<OpenApiDocument>(gateway.app, 'GET', '/api/openapi.json')).body;
});
afterAll(async () => {
  await gateway?.close();
});

type Declared = { 'x-capability'?: string; 'x-public'?: boolean; 'x-authentication'?: string; security?: unknown[] };

describe('every route', () => {
  it('declares its capability (or that it is public) in its definition, and the declaration is a real capability', () => {
    const undeclared: string[] = [];
    const unknown: string[] = [];
    const routes = appRoutes(gateway.app).filter((route) => route.path.startsWith('/api/'));
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const operation = document.paths[route.openApiPath]?.[route.method.toLowerCase()] as Declared | undefined;
      const capability = operation?.['x-capability'];
      const isPublic = operation?.['x-public'] === true;
      if (!operation || (!capability && !isPublic)) undeclared.push(route.key);
      else if (capability && !isCapability(capability)) unknown.push(`${route.key}: ${capability}`);
      // a public route carries no security; a secured one accepts a session or an access key
      if (operation && isPublic) expect(operation.security, route.key).toEqual([]);
      if (operation && capability) expect(operation.security, route.key).toEqual([{ bearerAuth: [] }, { accessKey: [] }]);
    }
    expect(undeclared, 'routes without a declaration').toEqual([]);
    expect(unknown, 'routes declaring a capability outside the catalog').toEqual([]);
  });

  it('keeps public routes to the few that must be: health, readiness, the OpenAPI document, the local dev login and signed partner webhooks', () => {
    const publicRoutes = appRoutes(gateway.app)
      .filter((route) => (document.paths[route.openApiPath]?.[route.method.toLowerCase()] as Declared | undefined)?.['x-public'])
      .map((route) => route.key)
      .sort();
    expect(publicRoutes).toEqual([
      'GET /api/health',
      'GET /api/openapi.json',
      'GET /api/ready',
      'POST /api/auth/dev-login',
      'POST /api/embassy/{partner}/webhooks',
    ]);
  });

  it('says how a public route that takes partner data authenticates its caller instead (a Standard Webhooks signature)', () => {
    const signed = appRoutes(gateway.app)
      .filter((route) => route.path.startsWith('/api/embassy/'))
      .map((route) => [route.key, (document.paths[route.openApiPath]?.[route.method.toLowerCase()] as Declared)['x-authentication']]);
    expect(signed).toEqual([['POST /api/embassy/{partner}/webhooks', 'standard-webhooks']]);
  });
});

describe('the capability catalog', () => {
  it('is the same in the gateway (functions/_shared/capabilities.ts) and in the database, scope and privilege included', async () => {
    const rows = await gateway.database.sql<{ name: string; scope: string; privileged: boolean }[]>`
      select name, scope, privileged from public.capabilities order by name`;
    const database = Object.fromEntries(rows.map((row) => [row.name, { scope: row.scope, privileged: row.privileged }]));
    expect(database).toEqual(CAPABILITIES);
  });

  it('puts only team capabilities in bundles, and refuses any other', async () => {
    const misplaced = await gateway.database.sql`
      select bc.bundle, bc.capability from public.bundle_capabilities bc
      join public.capabilities c on c.name = bc.capability where c.scope <> 'team'`;
    expect(misplaced).toEqual([]);
    await expect(
      gateway.database.sql`insert into public.bundle_capabilities (bundle, capability) values ('member', 'platform.admin')`,
    ).rejects.toThrow(/not team-scoped/);
  });
});

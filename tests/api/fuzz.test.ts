// Fuzz: every route the app has (from its own route table, joined with its OpenAPI operation) gets malformed
// JSON, wrong types, unknown fields, bad UUIDs, oversize bodies, absurd page sizes, and missing or garbage
// auth. Every answer must be a 4xx in the error shape carrying the request id; a 5xx fails the test. A new
// route is fuzzed as soon as it is mounted (and fails here if it is missing from the OpenAPI document).
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorBody } from '../../functions/_shared/errors.ts';
import { seedIds } from '../harness/database.ts';
import { startTestS3, type TestS3 } from '../harness/s3.ts';
import { generateAccessKey } from '../../functions/_shared/access-keys.ts';
import { call, createAccessKey, devLogin, startTestGateway, TEST_JWT_SECRET, type Answer, type TestGateway } from './helpers.ts';
import {
  appRoutes,
  demoTeamIds,
  exampleBody,
  jsonBodySchema,
  resolveSchema,
  type AppRoute,
  type OpenApiDocument,
  type OpenApiOperation,
  type SchemaObject,
} from './routes.ts';

let gateway: TestGateway;
let document: OpenApiDocument;
let token: string;
/** An agent's access key in the demo team: every case runs as a person and as a key. */
let agentKey: string;
let garbageTokens: Record<string, string>;

let s3: TestS3;

beforeAll(async () => {
  // a real S3 server, so the storage routes' valid mutations reach their happy path instead of a 503
  s3 = await startTestS3();
  gateway = await startTestGateway('api_fuzz', { env: s3.env });
  document = (await call<OpenApiDocument>(gateway.app, 'GET', '/api/openapi.json')).body;
  token = (await devLogin(gateway.app, 'alice@demo.local')).token;
  agentKey = (await createAccessKey(gateway.app, token, seedIds.demoTeam)).key;
  const revoked = await createAccessKey(gateway.app, token, seedIds.demoTeam);
  await call(gateway.app, 'POST', `/api/teams/${seedIds.demoTeam}/keys/${revoked.keyId}/revoke`, { token });
  const sign = (payload: Record<string, unknown>, secret = TEST_JWT_SECRET) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
  const base = { sub: seedIds.alice, role: 'authenticated', aud: 'authenticated' };
  garbageTokens = {
    expired: await sign({ ...base, iat: 1_600_000_000, exp: 1_600_003_600 }),
    'wrong secret': await sign({ ...base, exp: Math.floor(Date.now() / 1000) + 600 }, 'not-this-projects-secret-0123456789abcdef'),
    'malformed key': 'mdao_test_short_abc',
    'key with a wrong checksum': `${agentKey.slice(0, -6)}${agentKey.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`,
    "another environment's key": (await generateAccessKey('prod')).key,
    'unknown key': (await generateAccessKey('test')).key,
    'revoked key': revoked.key,
  };
});
afterAll(async () => {
  await gateway?.close();
  await s3?.stop();
});

interface FuzzCase {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** What the case breaks; the answer must be a 4xx (public routes without inputs: anything but a 5xx). */
  expect: '4xx' | 'not 5xx';
}

const BAD_IDS = [
  'not-a-uuid',
  '123',
  "1' OR '1'='1",
  '..',
  '%00',
  'x'.repeat(300),
  '00000000000040008000000000000000',
  '{messageId}',
  '%E2%80%AE',
];
const BAD_NUMBERS = ['', 'abc', '-1', '0', '1.5', '1e9', '99999999999999999999', 'NaN', 'Infinity', '0x10', '1000000'];
const BAD_STRINGS = ['', 'x'.repeat(500), '%00', 'not-a-cursor!', '🙂'];

function fillPath(route: AppRoute, override?: [string, string]): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) =>
    override && override[0] === name ? override[1] : (demoTeamIds[name] ?? seedIds.welcomeMessage),
  );
}

function validQuery(operation: OpenApiOperation): Record<string, string> {
  const query: Record<string, string> = {};
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'query' && parameter.required) query[parameter.name] = demoTeamIds[parameter.name] ?? 'x';
  }
  return query;
}

const withQuery = (path: string, query: Record<string, string> | string) =>
  `${path}?${typeof query === 'string' ? query : new URLSearchParams(query).toString()}`;

/** Values that are wrong for a property of this schema. */
function wrongValues(schema: SchemaObject): unknown[] {
  const values: unknown[] = [{}, [], true];
  // 12345 is wrong for anything but a number whose bounds admit it (a file size, say)
  const numeric = schema.type === 'integer' || schema.type === 'number';
  if (!numeric || 12345 < (schema.minimum ?? -Infinity) || 12345 > (schema.maximum ?? Infinity)) values.push(12345);
  if (!schema.nullable) values.push(null);
  if (schema.type === 'string') {
    if (schema.format === 'uuid') values.push('not-a-uuid', `${seedIds.alice}x`);
    if (schema.format === 'email') values.push('not-an-email', 'a@', '@b.c');
    if (schema.enum) values.push('not-one-of-them');
    if (schema.maxLength) values.push('x'.repeat(schema.maxLength + 1));
    values.push('bad\u0000nul', '\u0007');
  } else {
    values.push('a string');
  }
  return values;
}

function casesFor(route: AppRoute, operation: OpenApiOperation | undefined, credential: string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const auth = { authorization: `Bearer ${credential}` };
  const secured = Boolean(operation?.security?.length);
  const bodySchema = operation ? jsonBodySchema(document, operation) : null;
  const query = operation ? validQuery(operation) : {};
  const path = Object.keys(query).length ? withQuery(fillPath(route), query) : fillPath(route);
  const example = operation && bodySchema ? JSON.stringify(exampleBody(document, operation)) : undefined;
  const jsonHeaders = { ...(secured ? auth : {}), 'content-type': 'application/json' };
  const base = { method: route.method, expect: '4xx' as const };

  if (secured) {
    const authorizations: Record<string, string | undefined> = {
      missing: undefined,
      'empty bearer': 'Bearer ',
      'garbage bearer': 'Bearer garbage',
      'three garbage segments': 'Bearer a.b.c',
      'basic scheme': 'Basic YWxpY2U6c2VjcmV0',
      'huge token': `Bearer ${'A'.repeat(8000)}`,
      ...Object.fromEntries(Object.entries(garbageTokens).map(([name, value]) => [name, `Bearer ${value}`])),
    };
    for (const [label, authorization] of Object.entries(authorizations)) {
      cases.push({
        ...base,
        label: `auth: ${label}`,
        path,
        body: example,
        headers: { ...(example ? { 'content-type': 'application/json' } : {}), ...(authorization === undefined ? {} : { authorization }) },
      });
    }
  }

  for (const name of route.path.match(/:(\w+)/g)?.map((p) => p.slice(1)) ?? []) {
    for (const bad of BAD_IDS) {
      const badPath = fillPath(route, [name, bad]);
      cases.push({
        ...base,
        label: `path ${name}=${bad.slice(0, 20)}`,
        path: Object.keys(query).length ? withQuery(badPath, query) : badPath,
        headers: jsonHeaders,
        body: example,
      });
    }
  }

  for (const parameter of (operation?.parameters ?? []).filter((p) => p.in === 'query')) {
    const schema = parameter.schema ? resolveSchema(document, parameter.schema) : {};
    const values = schema.type === 'integer' || schema.type === 'number' ? BAD_NUMBERS : schema.format === 'uuid' ? BAD_IDS : BAD_STRINGS;
    for (const value of values) {
      cases.push({
        ...base,
        label: `query ${parameter.name}=${value.slice(0, 20)}`,
        path: withQuery(fillPath(route), { ...query, [parameter.name]: value }),
        headers: auth,
      });
    }
    cases.push({
      ...base,
      label: `query ${parameter.name} repeated`,
      path: withQuery(fillPath(route), `${new URLSearchParams(query)}&${parameter.name}=1&${parameter.name}=2`),
      headers: auth,
    });
  }
  if (operation?.parameters?.some((p) => p.in === 'query')) {
    cases.push({
      ...base,
      label: 'query: unknown parameter',
      path: withQuery(fillPath(route), { ...query, unexpected: '1' }),
      headers: auth,
    });
  }

  if (bodySchema && example) {
    const malformed = ['', '{', '{"a":', 'nul', '[1,2', '{"x":1}}', "{'single':'quotes'}", '\u0000', '['.repeat(8000) + ']'.repeat(8000)];
    for (const text of malformed)
      cases.push({ ...base, label: `malformed JSON ${JSON.stringify(text.slice(0, 12))}`, path, headers: jsonHeaders, body: text });
    for (const text of ['null', '[]', '42', '"a string"', 'true', `[${example}]`]) {
      cases.push({ ...base, label: `JSON that is no object: ${text.slice(0, 12)}`, path, headers: jsonHeaders, body: text });
    }
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      cases.push({
        ...base,
        label: `content-type ${contentType}`,
        path,
        headers: { ...jsonHeaders, 'content-type': contentType },
        body: example,
      });
    }
    cases.push({ ...base, label: 'no content-type', path, headers: secured ? auth : {}, body: new TextEncoder().encode(example) });
    const object = JSON.parse(example) as Record<string, unknown>;
    cases.push({ ...base, label: 'unknown field', path, headers: jsonHeaders, body: JSON.stringify({ ...object, unexpected_field: 1 }) });
    cases.push({
      ...base,
      label: 'prototype pollution field',
      path,
      headers: jsonHeaders,
      body: `{"__proto__":{"admin":true},${example.slice(1)}`,
    });
    for (const [property, propertySchema] of Object.entries(bodySchema.properties ?? {})) {
      const resolved = resolveSchema(document, propertySchema);
      for (const value of wrongValues(resolved)) {
        cases.push({
          ...base,
          label: `${property} = ${JSON.stringify(value).slice(0, 24)}`,
          path,
          headers: jsonHeaders,
          body: JSON.stringify({ ...object, [property]: value }),
        });
      }
      if (bodySchema.required?.includes(property)) {
        const { [property]: _removed, ...rest } = object;
        cases.push({ ...base, label: `missing ${property}`, path, headers: jsonHeaders, body: JSON.stringify(rest) });
      }
    }
    const oversize = JSON.stringify({ ...object, padding: 'x'.repeat(gateway.config.BODY_LIMIT_BYTES) });
    cases.push({ ...base, label: 'oversize body', path, headers: jsonHeaders, body: oversize });
  }

  if (!secured && !bodySchema && !operation?.parameters?.length) {
    // public routes without inputs: garbage must not break them
    cases.push({
      method: route.method,
      label: 'garbage everything',
      path: `${fillPath(route)}?limit=-1&cursor=%00&x=${'y'.repeat(300)}`,
      headers: { authorization: 'Bearer garbage', 'content-type': 'application/json' },
      body: route.method === 'GET' ? undefined : '{',
      expect: 'not 5xx',
    });
  }
  return cases;
}

function verdict(testCase: FuzzCase, answer: Answer): string | null {
  if (answer.status >= 500) return `answered ${answer.status}`;
  if (testCase.expect === '4xx' && (answer.status < 400 || answer.status > 499)) return `answered ${answer.status}, expected a 4xx`;
  if (answer.status >= 400) {
    if (!isErrorBody(answer.body)) return `answered ${answer.status} outside the error shape: ${JSON.stringify(answer.body).slice(0, 200)}`;
    if (answer.body.error.request_id !== answer.headers.get('x-request-id')) return 'request_id differs from X-Request-ID';
    if (answer.body.error.message.length < 10) return `message too short to act on: ${answer.body.error.message}`;
  }
  return null;
}

describe('fuzzing every route of the app', () => {
  it('finds every route of the app in its OpenAPI document', () => {
    const undocumented = appRoutes(gateway.app)
      .filter((route) => !document.paths[route.openApiPath]?.[route.method.toLowerCase()])
      .map((route) => route.key);
    expect(undocumented).toEqual([]);
  });

  it.each([
    ['a person’s session', () => token],
    ['an agent’s access key', () => agentKey],
  ])(
    'answers every malformed request with a 4xx in the error shape, never a 5xx, as %s',
    async (_, credential) => {
      const failures: string[] = [];
      const perRoute = new Map<string, number>();
      for (const route of appRoutes(gateway.app)) {
        const operation = document.paths[route.openApiPath]?.[route.method.toLowerCase()];
        const cases = casesFor(route, operation, credential());
        perRoute.set(route.key, cases.length);
        for (const testCase of cases) {
          const answer = await call(gateway.app, testCase.method, testCase.path, { headers: testCase.headers, body: testCase.body });
          const problem = verdict(testCase, answer);
          if (problem) failures.push(`${route.key} [${testCase.label}]: ${problem}`);
        }
      }
      expect(failures).toEqual([]);
      expect([...perRoute.entries()].filter(([, count]) => count === 0)).toEqual([]);
      expect([...perRoute.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(300);
    },
    120_000,
  );

  it('left the seeded data as it was', async () => {
    const [row] = await gateway.database.sql<{ messages: number; channels: number; teams: number }[]>`
      select (select count(*)::int from public.messages) as messages, (select count(*)::int from public.channels) as channels,
             (select count(*)::int from public.teams) as teams`;
    expect(row).toEqual({ messages: 1, channels: 1, teams: 1 });
  });
});

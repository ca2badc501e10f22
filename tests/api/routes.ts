// The gateway's routes as the app itself lists them (Hono's route table), joined with their operation in the
// app's OpenAPI document: the fuzz and tenancy tests iterate over this, so a new route is tested as soon
// as it exists.
import type { App } from '../../functions/api/app.ts';
import { seedIds } from '../harness/database.ts';

/** The demo team's (seeded, Alice's) resources by the names routes give their parameters and body fields, so
    that an otherwise valid request reaches the handler. A domain adds its parameter names here. */
export const demoTeamIds: Record<string, string> = {
  teamId: seedIds.demoTeam,
  team_id: seedIds.demoTeam,
  channelId: seedIds.generalChannel,
  channel_id: seedIds.generalChannel,
  messageId: seedIds.welcomeMessage,
  // ids that need not exist: the team in the path decides
  keyId: '00000000-0000-4000-8000-00000000beef',
  invitationId: '00000000-0000-4000-8000-00000000cafe',
  partner: 'energy-union',
  payoutId: '00000000-0000-4000-8000-0000000000b1',
  stakeId: '00000000-0000-4000-8000-0000000000b2',
  role: 'member',
  bundle: 'member',
};

export interface SchemaObject {
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaObject>;
  required?: string[];
  example?: unknown;
  $ref?: string;
  nullable?: boolean;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: SchemaObject;
}
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: SchemaObject;
}
export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: SchemaObject }> };
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation | undefined> | undefined>;
  components?: { schemas?: Record<string, SchemaObject> };
}

export interface AppRoute {
  method: string;
  /** Hono spelling: /api/messages/:messageId */
  path: string;
  /** OpenAPI spelling: /api/messages/{messageId} */
  openApiPath: string;
  key: string;
}

/** Every method + path the app answers (middleware entries left out), in registration order. */
export function appRoutes(app: App): AppRoute[] {
  const routes = new Map<string, AppRoute>();
  for (const { method, path } of app.routes) {
    if (method === 'ALL' || path.includes('*')) continue;
    const key = `${method} ${path}`;
    if (!routes.has(key))
      routes.set(key, { method, path, openApiPath: path.replace(/:(\w+)/g, '{$1}'), key: `${method} ${path.replace(/:(\w+)/g, '{$1}')}` });
  }
  return [...routes.values()];
}

export function resolveSchema(document: OpenApiDocument, schema: SchemaObject): SchemaObject {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const resolved = document.components?.schemas?.[name];
  if (!resolved) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolved;
}

export function jsonBodySchema(document: OpenApiDocument, operation: OpenApiOperation): SchemaObject | null {
  const schema = operation.requestBody?.content['application/json']?.schema;
  return schema ? resolveSchema(document, schema) : null;
}

/** A copy of the request body's documented example (every body schema must have one), or undefined if the route takes no body. */
export function exampleBody(document: OpenApiDocument, operation: OpenApiOperation): Record<string, unknown> | undefined {
  const schema = jsonBodySchema(document, operation);
  if (!schema) return undefined;
  if (!schema.example || typeof schema.example !== 'object')
    throw new Error('a request body schema has no example; add .openapi({ example })');
  return structuredClone(schema.example) as Record<string, unknown>;
}

// A small kustomize for the tests: renders deploy/k8s overlays without kubectl, for exactly the subset the
// manifests use — resources (files and folders), components, namespace, labels (with includeTemplates),
// images, replicas, strategic-merge patches from files, configMapGenerator/secretGenerator (envs, literals) with
// kustomize's content-hash name suffix and the references to them renamed. Anything else in a kustomization is
// refused, so a manifest cannot silently use a feature this renderer ignores. Where kubectl is installed,
// tests/deploy/k8s.test.ts checks that both render the same objects.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

export type Resource = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

export interface RenderOptions {
  /** Reads a file the kustomization names (tests supply secrets.env, which is never committed). */
  readFile?: (absolutePath: string) => string;
}

type Json = Record<string, unknown>;
interface Generated {
  resource: Resource;
  originalName: string;
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'labels',
  'images',
  'replicas',
  'patches',
  'configMapGenerator',
  'secretGenerator',
]);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
/** Strategic-merge keys of the list fields the manifests patch (as the Kubernetes API defines them). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Strategic merge patch for the subset used: maps merge, keyed lists merge by key, other lists are replaced. */
export function strategicMerge(target: unknown, patch: unknown, field = ''): unknown {
  if (isObject(target) && isObject(patch)) {
    if ('$patch' in patch) throw new Error(`$patch directives are not supported (in ${field})`);
    const merged: Json = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = key in target ? strategicMerge(target[key], value, key) : value;
    }
    return merged;
  }
  const mergeKey = MERGE_KEYS[field];
  if (Array.isArray(target) && Array.isArray(patch) && mergeKey) {
    const merged = [...target] as Json[];
    for (const item of patch as Json[]) {
      const index = merged.findIndex((existing) => existing[mergeKey] === item[mergeKey]);
      if (index >= 0) merged[index] = strategicMerge(merged[index], item) as Json;
      else merged.push(item);
    }
    return merged;
  }
  return patch;
}

/** Go's encoding/json output for the hash: sorted keys, and <, >, & escaped as Go escapes them. */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted(v[k])]),
        )
      : Array.isArray(v)
        ? v.map(sorted)
        : v;
  return JSON.stringify(sorted(value))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * kustomize's name suffix: the first 10 hex digits of a sha256 over kind, name and data (and a Secret's type),
 * with 0 1 3 a e swapped out. The name it hashes is empty — its lookup of metadata/name finds nothing — which is
 * what kubectl kustomize v5.5.0 was measured to do here; the content alone decides the suffix.
 */
export function contentHash(resource: Resource): string {
  const encoded =
    resource.kind === 'Secret'
      ? { kind: 'Secret', type: resource.type ?? '', name: '', data: resource.data ?? '' }
      : { kind: 'ConfigMap', name: '', data: resource.data ?? '' };
  const hex = createHash('sha256').update(goJson(encoded)).digest('hex').slice(0, 10);
  return hex.replace(/[013ae]/g, (c) => ({ '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' })[c]!);
}

function parseEnvFile(text: string, file: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals <= 0) throw new Error(`${file}:${index + 1}: expected KEY=VALUE`);
    data[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return data;
}

function podSpecs(resource: Resource): Json[] {
  const spec = resource.spec as Json | undefined;
  const template = spec?.template as Json | undefined;
  return WORKLOADS.has(resource.kind) && isObject(template?.spec) ? [template.spec] : [];
}

/** Renames references to generated ConfigMaps and Secrets in pod specs (envFrom, env valueFrom, volumes). */
function renameReferences(resource: Resource, renamed: Map<string, string>): void {
  const key = (kind: string, name: unknown) => `${kind}/${String(name)}`;
  const rename = (holder: Json | undefined, field: string, kind: string) => {
    if (holder && renamed.has(key(kind, holder[field]))) holder[field] = renamed.get(key(kind, holder[field]));
  };
  for (const spec of podSpecs(resource)) {
    for (const container of [...((spec.containers as Json[]) ?? []), ...((spec.initContainers as Json[]) ?? [])]) {
      for (const source of (container.envFrom as Json[]) ?? []) {
        rename(source.configMapRef as Json, 'name', 'ConfigMap');
        rename(source.secretRef as Json, 'name', 'Secret');
      }
      for (const variable of (container.env as Json[]) ?? []) {
        const from = variable.valueFrom as Json | undefined;
        rename(from?.configMapKeyRef as Json, 'name', 'ConfigMap');
        rename(from?.secretKeyRef as Json, 'name', 'Secret');
      }
    }
    for (const volume of (spec.volumes as Json[]) ?? []) {
      rename(volume.configMap as Json, 'name', 'ConfigMap');
      rename(volume.secret as Json, 'secretName', 'Secret');
    }
  }
}

function loadResources(file: string, read: (p: string) => string): Resource[] {
  return parseAllDocuments(read(file))
    .map((doc) => doc.toJS() as Resource | null)
    .filter((doc): doc is Resource => doc !== null);
}

function sameObject(a: Resource, b: Pick<Resource, 'apiVersion' | 'kind' | 'metadata'>): boolean {
  const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
  return a.kind === b.kind && a.metadata.name === b.metadata.name && group(a.apiVersion) === group(b.apiVersion);
}

interface Accumulated {
  resources: Resource[];
  generated: Generated[];
}

function build(dir: string, read: (p: string) => string, expectedKind: 'Kustomization' | 'Component', into?: Accumulated): Accumulated {
  const file = path.join(dir, 'kustomization.yaml');
  const k = parse(read(file)) as Json;
  const unsupported = Object.keys(k).filter((field) => !SUPPORTED.has(field));
  if (unsupported.length) throw new Error(`${file}: ${unsupported.join(', ')} not supported by this renderer`);
  if (k.kind !== expectedKind) throw new Error(`${file}: expected kind ${expectedKind}, found ${String(k.kind)}`);
  const acc: Accumulated = into ?? { resources: [], generated: [] };

  for (const entry of (k.resources as string[]) ?? []) {
    const target = path.join(dir, entry);
    if (existsSync(target) && statSync(target).isDirectory()) {
      const child = build(target, read, 'Kustomization');
      acc.resources.push(...child.resources);
      acc.generated.push(...child.generated);
    } else acc.resources.push(...loadResources(target, read));
  }
  for (const component of (k.components as string[]) ?? []) build(path.join(dir, component), read, 'Component', acc);

  for (const [kind, field] of [
    ['ConfigMap', 'configMapGenerator'],
    ['Secret', 'secretGenerator'],
  ] as const) {
    for (const generator of (k[field] as Json[]) ?? []) {
      const unknown = Object.keys(generator).filter((f) => !['name', 'envs', 'literals'].includes(f));
      if (unknown.length) throw new Error(`${file}: ${field} ${unknown.join(', ')} not supported`);
      const data: Record<string, string> = {};
      for (const envFile of (generator.envs as string[]) ?? []) Object.assign(data, parseEnvFile(read(path.join(dir, envFile)), envFile));
      for (const literal of (generator.literals as string[]) ?? []) Object.assign(data, parseEnvFile(literal, 'literal'));
      const name = String(generator.name);
      const encoded =
        kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')])) : data;
      const resource: Resource = {
        apiVersion: 'v1',
        kind,
        metadata: { name },
        ...(kind === 'Secret' ? { type: 'Opaque' } : {}),
        data: encoded,
      };
      acc.resources.push(resource);
      acc.generated.push({ resource, originalName: name });
    }
  }

  for (const patch of (k.patches as Json[]) ?? []) {
    if (Object.keys(patch).some((f) => f !== 'path')) throw new Error(`${file}: only patches with a path (strategic merge) are supported`);
    for (const partial of loadResources(path.join(dir, String(patch.path)), read)) {
      const index = acc.resources.findIndex((r) => sameObject(r, partial));
      if (index < 0) throw new Error(`${file}: patch ${String(patch.path)} matches no ${partial.kind}/${partial.metadata.name}`);
      acc.resources[index] = strategicMerge(acc.resources[index], partial) as Resource;
    }
  }

  for (const { name, count } of (k.replicas as { name: string; count: number }[]) ?? []) {
    const targets = acc.resources.filter((r) => WORKLOADS.has(r.kind) && r.metadata.name === name);
    if (!targets.length) throw new Error(`${file}: replicas names ${name}, which is not a workload`);
    for (const target of targets) (target.spec as Json).replicas = count;
  }

  for (const image of (k.images as Json[]) ?? []) {
    for (const spec of acc.resources.flatMap(podSpecs)) {
      for (const container of [...((spec.containers as Json[]) ?? []), ...((spec.initContainers as Json[]) ?? [])]) {
        const current = String(container.image);
        const bare = current.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^/:]+$/, '');
        if (bare !== image.name) continue;
        const newName = (image.newName as string | undefined) ?? bare;
        container.image = image.digest
          ? `${newName}@${String(image.digest)}`
          : `${newName}${image.newTag ? `:${String(image.newTag)}` : current.slice(bare.length)}`;
      }
    }
  }

  for (const { pairs, includeTemplates, ...rest } of (k.labels as { pairs: Record<string, string>; includeTemplates?: boolean }[]) ?? []) {
    if (Object.keys(rest).length) throw new Error(`${file}: labels ${Object.keys(rest).join(', ')} not supported`);
    for (const resource of acc.resources) {
      resource.metadata.labels = { ...resource.metadata.labels, ...pairs };
      if (!includeTemplates) continue;
      const template = (resource.spec as Json | undefined)?.template as Json | undefined;
      if (WORKLOADS.has(resource.kind) && template) {
        const metadata = (template.metadata ??= {}) as Json;
        metadata.labels = { ...(metadata.labels as Record<string, string>), ...pairs };
      }
    }
  }

  if (k.namespace) for (const resource of acc.resources) resource.metadata.namespace = String(k.namespace);
  return acc;
}

/** Renders a kustomization folder into its objects (the order is not kubectl's; compare by kind and name). */
export function renderKustomization(dir: string, options: RenderOptions = {}): Resource[] {
  const read = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const acc = build(dir, read, 'Kustomization');
  const renamed = new Map<string, string>();
  for (const { resource, originalName } of acc.generated) {
    resource.metadata.name = `${originalName}-${contentHash(resource)}`;
    renamed.set(`${resource.kind}/${originalName}`, resource.metadata.name);
  }
  for (const resource of acc.resources) renameReferences(resource, renamed);
  return acc.resources;
}

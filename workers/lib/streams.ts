// Provisions the JetStream streams of an environment from their definitions (functions/_shared/events/
// streams.ts): creates a missing stream, updates one whose settings drifted, leaves a matching one alone.
// Uses only stream fields nats-server 2.9 knows.
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { StreamDefinition } from '../../functions/_shared/events/streams.ts';

export type ProvisionResult = 'created' | 'updated' | 'unchanged';

function streamConfigOf(definition: StreamDefinition): Partial<StreamConfig> & { name: string } {
  return {
    name: definition.name,
    subjects: definition.subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: definition.replicas,
    duplicate_window: nanos(definition.duplicateWindowMs),
    max_age: nanos(definition.maxAgeMs),
    max_bytes: definition.maxBytes,
    max_msg_size: definition.maxMessageBytes,
  };
}

export const isStreamNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;

const sameSubjects = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Creates or updates one stream so that it matches its definition. */
export async function ensureStream(jsm: JetStreamManager, definition: StreamDefinition): Promise<ProvisionResult> {
  const wanted = streamConfigOf(definition);
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(definition.name)).config;
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    await jsm.streams.add(wanted);
    return 'created';
  }
  const drifted =
    !sameSubjects(current.subjects ?? [], definition.subjects) ||
    current.num_replicas !== wanted.num_replicas ||
    current.duplicate_window !== wanted.duplicate_window ||
    current.max_age !== wanted.max_age ||
    current.max_bytes !== wanted.max_bytes ||
    current.max_msg_size !== wanted.max_msg_size ||
    current.discard !== wanted.discard;
  if (!drifted) return 'unchanged';
  await jsm.streams.update(definition.name, { ...wanted });
  return 'updated';
}

/** Provisions every definition in order; returns what happened to each stream. */
export async function ensureStreams(jsm: JetStreamManager, definitions: StreamDefinition[]): Promise<Record<string, ProvisionResult>> {
  const results: Record<string, ProvisionResult> = {};
  for (const definition of definitions) results[definition.name] = await ensureStream(jsm, definition);
  return results;
}

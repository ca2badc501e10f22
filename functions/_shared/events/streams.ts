// The JetStream streams of an environment, derived from the event catalog: what the relay provisions
// (idempotently, at start) and what status and consumers read. Plain data, no NATS client, so it runs
// anywhere; workers/lib/streams.ts turns it into JetStream calls.
import { isProductionLike, type AppEnv, type Config } from '../config.ts';
import { eventTypes, subjectFor, type EventType } from './catalog.ts';

export interface StreamDefinition {
  name: string;
  subjects: string[];
  /** 1 on a single server (local, test, dev), 3 on the staging and prod clusters. */
  replicas: number;
  /** JetStream drops a second message with the same Nats-Msg-Id (= outbox event id) within this window. */
  duplicateWindowMs: number;
  maxAgeMs: number;
  maxBytes: number;
  maxMessageBytes: number;
}

export interface StreamLimits {
  replicas: number;
  duplicateWindowMs: number;
  maxAgeMs: number;
  maxBytes: number;
  maxMessageBytes: number;
  deadLetterMaxAgeMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Per-environment limits. Staging mirrors prod. */
export function streamLimitsFor(env: AppEnv): StreamLimits {
  if (isProductionLike(env)) {
    return {
      replicas: 3,
      duplicateWindowMs: 10 * MINUTE,
      maxAgeMs: 30 * DAY,
      maxBytes: 50 * GIB,
      maxMessageBytes: MIB,
      deadLetterMaxAgeMs: 90 * DAY,
    };
  }
  return {
    replicas: 1,
    duplicateWindowMs: 2 * MINUTE,
    maxAgeMs: 7 * DAY,
    maxBytes: GIB,
    maxMessageBytes: MIB,
    deadLetterMaxAgeMs: 30 * DAY,
  };
}

type StreamSettings = Pick<Config, 'APP_ENV' | 'NATS_STREAM_EVENTS' | 'NATS_SUBJECT_PREFIX'>;

/** Token under the prefix that dead-lettered consumer messages use; no event type may start with it. */
export const DEAD_LETTER_TOKEN = 'dead_letter';

/** Every catalog event's subject, listed one by one so a subject outside the catalog finds no stream. */
export const eventSubjects = (prefix: string): string[] => eventTypes.map((type) => subjectFor(prefix, type));

/** The stream holding every event of the catalog (NATS_STREAM_EVENTS). */
export function eventStreamDefinition(settings: StreamSettings): StreamDefinition {
  const limits = streamLimitsFor(settings.APP_ENV);
  return {
    name: settings.NATS_STREAM_EVENTS,
    subjects: eventSubjects(settings.NATS_SUBJECT_PREFIX),
    replicas: limits.replicas,
    duplicateWindowMs: limits.duplicateWindowMs,
    maxAgeMs: limits.maxAgeMs,
    maxBytes: limits.maxBytes,
    maxMessageBytes: limits.maxMessageBytes,
  };
}

/** Messages consumers gave up on, kept for an operator: `<prefix>.dead_letter.<consumer>.<event type>`. */
export function deadLetterStreamDefinition(settings: StreamSettings): StreamDefinition {
  const limits = streamLimitsFor(settings.APP_ENV);
  return {
    name: `${settings.NATS_STREAM_EVENTS}_DLQ`,
    subjects: [`${settings.NATS_SUBJECT_PREFIX}.${DEAD_LETTER_TOKEN}.>`],
    replicas: limits.replicas,
    duplicateWindowMs: limits.duplicateWindowMs,
    maxAgeMs: limits.deadLetterMaxAgeMs,
    maxBytes: limits.maxBytes,
    // a dead letter carries the original message plus a few headers
    maxMessageBytes: limits.maxMessageBytes + 64 * 1024,
  };
}

/** Both streams of an environment, in provisioning order. */
export const streamDefinitions = (settings: StreamSettings): StreamDefinition[] => [
  eventStreamDefinition(settings),
  deadLetterStreamDefinition(settings),
];

export const deadLetterSubjectFor = (prefix: string, consumer: string, type: EventType | string): string =>
  `${prefix}.${DEAD_LETTER_TOKEN}.${consumer}.${type}`;

/** The event type of a subject under `prefix`, or undefined when it is not an event subject. */
export function eventTypeOfSubject(prefix: string, subject: string): string | undefined {
  return subject.startsWith(`${prefix}.`) ? subject.slice(prefix.length + 1) : undefined;
}

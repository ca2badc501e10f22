// The event catalog: every event type the platform emits, with its subject, payload schema and version.
// The single source for producers (the gateway enqueues outbox rows validated here), the outbox relay
// (subject and headers) and the consumers (payload parsing). Add an event here first, then emit it.
import type { z } from 'zod';
import { agentEvents } from './agents.ts';
import { embassyEvents } from './embassy.ts';
import { giftEvents } from './gifts.ts';
import { governanceEvents } from './governance.ts';
import { messagingEvents } from './messaging.ts';
import { projectEvents } from './projects.ts';
import { storageEvents } from './storage.ts';
import { walletEvents } from './wallet.ts';

// one spread per domain; a type declared twice would silently replace the first, so a test checks the counts
export const domainCatalogs = {
  messaging: messagingEvents,
  agents: agentEvents,
  embassy: embassyEvents,
  projects: projectEvents,
  governance: governanceEvents,
  storage: storageEvents,
  wallet: walletEvents,
  gifts: giftEvents,
} as const;

export const eventCatalog = {
  ...messagingEvents,
  ...agentEvents,
  ...embassyEvents,
  ...projectEvents,
  ...governanceEvents,
  ...storageEvents,
  ...walletEvents,
  ...giftEvents,
} as const;

export type EventType = keyof typeof eventCatalog;
export type EventPayload<T extends EventType> = z.infer<(typeof eventCatalog)[T]['payload']>;
export const eventTypes = Object.keys(eventCatalog) as EventType[];

export const isEventType = (value: string): value is EventType => Object.hasOwn(eventCatalog, value);

/** NATS subject of an event: `<prefix>.<event type>`, e.g. `microdao.message.created`. The prefix lets one
    NATS account hold several isolated streams (tests use a fresh prefix per stream). */
export const subjectFor = (prefix: string, type: EventType): string => `${prefix}.${type}`;

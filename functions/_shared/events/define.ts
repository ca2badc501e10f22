// What an event definition is, and the payload building blocks the per-domain catalogs share.
import { z } from 'zod';

export interface EventDefinition {
  version: number;
  /** aggregate_type of the outbox row: what the aggregate_id names. */
  aggregate: string;
  payload: z.ZodType;
}

/** Keeps each domain's literal types (so payloads stay typed) while checking the shape of every entry. */
export const defineEvents = <const T extends Record<string, EventDefinition>>(events: T): T => events;

export const uuid = z.uuid();
export const timestamp = z.iso.datetime({ offset: true });

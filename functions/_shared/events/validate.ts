// Checks an event against the catalog: the relay refuses to publish, and consumers refuse to handle,
// anything the catalog does not describe.
import { eventCatalog, isEventType, type EventPayload, type EventType } from './catalog.ts';

export type EventCheck<T extends EventType = EventType> =
  { ok: true; type: T; payload: EventPayload<T> } | { ok: false; reason: 'unknown_event_type' | 'payload_schema'; detail: string };

/** Validates a payload (already parsed from JSON) against the schema of its event type. */
export function checkEvent(type: string, payload: unknown): EventCheck {
  if (!isEventType(type)) {
    return { ok: false, reason: 'unknown_event_type', detail: `event type '${type}' is not in the event catalog` };
  }
  const parsed = eventCatalog[type].payload.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    return { ok: false, reason: 'payload_schema', detail: `the ${type} payload does not match its schema: ${issues}` };
  }
  return { ok: true, type, payload: parsed.data as EventPayload<EventType> };
}

/** Parses JSON text and validates it; malformed JSON is a schema failure. */
export function checkEventJson(type: string, json: string): EventCheck {
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (error) {
    return { ok: false, reason: 'payload_schema', detail: `the ${type} payload is not JSON: ${(error as Error).message}` };
  }
  return checkEvent(type, payload);
}

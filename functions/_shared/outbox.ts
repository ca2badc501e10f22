// Writes an event to the transactional outbox inside the caller's transaction, after validating its payload
// against the event catalog: the change and its event commit together or not at all, and nothing enters the
// outbox that the relay and consumers could not parse.
import type postgres from 'postgres';
import { eventCatalog, type EventPayload, type EventType } from './events/catalog.ts';

export interface OutboxEvent<T extends EventType> {
  type: T;
  aggregateId: string;
  payload: EventPayload<T>;
  /** The request id of the request that caused the event. */
  correlationId: string;
}

/** A payload that does not match the catalog: a programming error, so the transaction is rolled back. */
export class InvalidEventPayloadError extends Error {
  constructor(type: string, detail: string) {
    super(`the ${type} event payload does not match the event catalog: ${detail}`);
    this.name = 'InvalidEventPayloadError';
  }
}

/** Enqueues the event through app.enqueue_event (security definer: users cannot write the outbox directly). */
export async function enqueueEvent<T extends EventType>(tx: postgres.TransactionSql, event: OutboxEvent<T>): Promise<string> {
  const definition = eventCatalog[event.type];
  const parsed = definition.payload.safeParse(event.payload);
  if (!parsed.success) {
    throw new InvalidEventPayloadError(
      event.type,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  const [row] = await tx<{ id: string }[]>`
    select app.enqueue_event(
      ${event.type}, ${definition.aggregate}, ${event.aggregateId}, ${tx.json(parsed.data as postgres.JSONValue)}::jsonb, ${event.correlationId}, ${definition.version}::int
    ) as id`;
  return row!.id;
}

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string;
  teamId: string | null;
  requestId: string;
  details?: Record<string, unknown>;
}

/** Appends an audit entry through app.record_audit; the actor is taken from the transaction's JWT claims. */
export async function recordAudit(tx: postgres.TransactionSql, entry: AuditEntry): Promise<void> {
  await tx`
    select app.record_audit(
      ${entry.action}, ${entry.targetType}, ${entry.targetId}, ${entry.teamId}::uuid, ${entry.requestId}, ${tx.json((entry.details ?? {}) as postgres.JSONValue)}::jsonb
    )`;
}

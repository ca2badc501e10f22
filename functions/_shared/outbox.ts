// Writes an event to the transactional outbox inside the caller's transaction, after validating its payload
// against the event catalog: the change and its event commit together or not at all, and nothing enters the
// outbox that the relay and consumers could not parse.
import type postgres from 'postgres';
import { eventCatalog, type EventPayload, type EventType } from './events/catalog.ts';
import { checkEvent } from './events/validate.ts';

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

/** The payload as the catalog defines it, or an InvalidEventPayloadError saying what does not match. */
export function assertCatalogPayload<T extends EventType>(type: T, payload: unknown): EventPayload<T> {
  const checked = checkEvent(type, payload);
  if (!checked.ok) throw new InvalidEventPayloadError(type, checked.detail);
  return checked.payload as EventPayload<T>;
}

/** Enqueues the event through app.enqueue_event (security definer: users cannot write the outbox directly). */
export async function enqueueEvent<T extends EventType>(tx: postgres.TransactionSql, event: OutboxEvent<T>): Promise<string> {
  const payload = assertCatalogPayload(event.type, event.payload);
  const [row] = await tx<{ id: string }[]>`
    select ${enqueueEventCall(tx, event.type, tx`${event.aggregateId}`, tx`${tx.json(payload as postgres.JSONValue)}::jsonb`, event.correlationId)} as id`;
  return row!.id;
}

/**
 * The app.enqueue_event call for `type`, for a statement that computes the aggregate id and payload itself
 * (say, from an insert's RETURNING), so the change and its event cost one round trip. Such a statement must
 * return the payload it wrote, and the caller must pass it to assertCatalogPayload before the transaction
 * commits: the check then happens after the write, but still before anything is visible.
 */
export function enqueueEventCall(
  tx: postgres.TransactionSql,
  type: EventType,
  aggregateId: postgres.PendingQuery<postgres.Row[]>,
  payload: postgres.PendingQuery<postgres.Row[]>,
  correlationId: string,
): postgres.PendingQuery<postgres.Row[]> {
  const definition = eventCatalog[type];
  return tx`app.enqueue_event(${type}, ${definition.aggregate}, ${aggregateId}, ${payload}, ${correlationId}, ${definition.version}::int)`;
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

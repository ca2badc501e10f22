// The database's allow-list of event types (app.event_types, checked by app.enqueue_event) and the TypeScript
// event catalog cannot drift apart: a type added to one and not the other fails here, naming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withServiceRole } from '../../functions/_shared/db.ts';
import { eventCatalog, eventTypes } from '../../functions/_shared/events/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('event_types');
});
afterAll(() => db?.drop());

const pair = (type: string, aggregate: string) => `${type} (aggregate ${aggregate})`;

describe('app.event_types', () => {
  it("holds exactly the event catalog's types, each with the catalog's aggregate", async () => {
    const rows = await db.sql<{ event_type: string; aggregate_type: string }[]>`
      select event_type, aggregate_type from app.event_types order by event_type`;
    const inDatabase = rows.map((row) => pair(row.event_type, row.aggregate_type));
    const inCatalog = eventTypes.map((type) => pair(type, eventCatalog[type].aggregate)).sort();
    expect(inDatabase, 'add the missing types to app.event_types in a migration (insert ... on conflict do nothing)').toEqual(inCatalog);
  });

  it('lets a worker enqueue every catalog type through the real driver path, and refuses any other', async () => {
    const enqueued = await withServiceRole(db.sql, async (tx) => {
      const ids: string[] = [];
      for (const type of eventTypes) {
        const [row] = await tx<{ id: string }[]>`
          select app.enqueue_event(${type}, ${eventCatalog[type].aggregate}, 'drift-check', '{}'::jsonb, 'event-types-test') as id`;
        ids.push(row!.id);
      }
      return ids;
    });
    expect(enqueued).toHaveLength(eventTypes.length);
    const refused = withServiceRole(db.sql, (tx) => tx`select app.enqueue_event('ghost.appeared', 'ghost', 'g', '{}'::jsonb, null)`);
    await expect(refused).rejects.toMatchObject({
      code: '22023',
      message: 'event type ghost.appeared is not in the event catalog (app.event_types)',
    });
  });
});

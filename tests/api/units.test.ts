// The gateway's pure pieces: timestamp parsing, cursors, the expected schema version, the Supabase path
// mapping, JSON log lines, and the outbox's refusal of payloads outside the event catalog.
import { describe, expect, it } from 'vitest';
import { withSupabasePaths } from '../../functions/api/gateway.ts';
import { decodeCursor, encodeCursor, pageOf } from '../../functions/api/core/pagination.ts';
import { newestMigrationVersion } from '../../functions/api/core/readiness.ts';
import { isoTimestamp } from '../../functions/_shared/db.ts';
import { createLogger } from '../../functions/_shared/log.ts';
import { enqueueEvent, InvalidEventPayloadError } from '../../functions/_shared/outbox.ts';
import type postgres from 'postgres';

describe('isoTimestamp', () => {
  it('keeps microseconds and writes UTC as Z', () => {
    expect(isoTimestamp('2026-11-27 14:05:00.123456+00')).toBe('2026-11-27T14:05:00.123456Z');
    expect(isoTimestamp('2026-11-27 14:05:00+00')).toBe('2026-11-27T14:05:00Z');
  });
  it('keeps other offsets, with minutes', () => {
    expect(isoTimestamp('2026-11-27 19:35:00.5+05:30')).toBe('2026-11-27T19:35:00.5+05:30');
    expect(isoTimestamp('2026-11-27 09:05:00-05')).toBe('2026-11-27T09:05:00-05:00');
  });
  it('leaves what it cannot express (infinity) as Postgres wrote it', () => {
    expect(isoTimestamp('infinity')).toBe('infinity');
  });
});

describe('cursors', () => {
  const cursor = { createdAt: '2026-11-27T14:05:00.123456Z', id: '0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f' };
  it('round-trip as opaque url-safe text', () => {
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });
  it('refuse anything this API did not produce', () => {
    for (const text of [
      '',
      'garbage',
      btoa('[1,2]'),
      btoa('["0000-01-01T00:00:00Z","0f6d2c1e-6a0b-4b7b-9f0e-3c1d2b4a5e6f"]'),
      btoa('{}'),
    ]) {
      expect(decodeCursor(text)).toBeNull();
    }
  });
  it('points at the last item only when another page follows', () => {
    const rows = [1, 2, 3].map((n) => ({ id: `id-${n}`, created_at: `2026-11-27T14:0${n}:00Z` }));
    expect(pageOf(rows, 3)).toEqual({ items: rows, next_cursor: null });
    const page = pageOf(rows, 2);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(JSON.parse(atob(page.next_cursor!.replaceAll('-', '+').replaceAll('_', '/')))).toEqual(['2026-11-27T14:02:00Z', 'id-2']);
  });
});

describe('newestMigrationVersion', () => {
  it('takes the newest timestamped .sql file and ignores everything else', () => {
    expect(newestMigrationVersion(['20261127000100_schema_core.sql', '20261127000200_x.sql', 'README.md', '2026_bad.sql'])).toBe(
      '20261127000200',
    );
    expect(newestMigrationVersion([])).toBeNull();
  });
});

describe('withSupabasePaths', () => {
  const echo = withSupabasePaths((request) => new Response(new URL(request.url).pathname + new URL(request.url).search));
  it('serves /functions/v1/api/... as /api/... and leaves other paths alone', async () => {
    expect(await (await echo(new Request('http://h/functions/v1/api/messages?x=1'))).text()).toBe('/api/messages?x=1');
    expect(await (await echo(new Request('http://h/functions/v1/api'))).text()).toBe('/api');
    expect(await (await echo(new Request('http://h/api/health'))).text()).toBe('/api/health');
    expect(await (await echo(new Request('http://h/functions/v1/apix'))).text()).toBe('/functions/v1/apix');
  });
});

describe('JSON log lines', () => {
  it('writes one parseable line per record with bound fields, errors serialised, below-threshold levels dropped', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', sink: (line) => lines.push(line), base: { service: 'api' } }).child({ request_id: 'r-1' });
    logger.debug('dropped');
    logger.error('failed', { error: Object.assign(new Error('boom'), { code: 'E42' }) });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      msg: 'failed',
      service: 'api',
      request_id: 'r-1',
      error: { name: 'Error', message: 'boom', code: 'E42', stack: expect.any(String) },
    });
  });
});

describe('enqueueEvent', () => {
  it('refuses a payload outside the event catalog before touching the database', async () => {
    const untouchable = new Proxy(
      {},
      {
        get: () => {
          throw new Error('the database was used');
        },
      },
    ) as unknown as postgres.TransactionSql;
    const payload = { team_id: 'not-a-uuid', name: 'x', created_by: 'nobody' };
    await expect(enqueueEvent(untouchable, { type: 'team.created', aggregateId: 'x', payload, correlationId: 'r' })).rejects.toBeInstanceOf(
      InvalidEventPayloadError,
    );
  });
});

// Stream definitions from the event catalog, per environment, and their idempotent provisioning.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/_shared/config.ts';
import { eventTypes } from '../../functions/_shared/events/catalog.ts';
import { DEAD_LETTER_TOKEN, eventTypeOfSubject, streamDefinitions } from '../../functions/_shared/events/streams.ts';
import { testServices } from '../harness/services.ts';
import { ensureStreams } from '../../workers/lib/streams.ts';
import { connectJetStream, deleteStreams, freshStreams } from './support/relay-env.ts';

let connection: Awaited<ReturnType<typeof connectJetStream>>;
beforeAll(async () => {
  connection = await connectJetStream(testServices.natsUrl);
});
afterAll(async () => {
  await connection.nc.close();
});

describe('event streams', () => {
  it('derives one events stream and one dead-letter stream per environment, three replicas only in staging and prod', () => {
    const settings = { NATS_STREAM_EVENTS: 'MICRODAO_EVENTS', NATS_SUBJECT_PREFIX: 'microdao' };
    const [local, localDlq] = streamDefinitions({ ...settings, APP_ENV: 'local' });
    const [prod] = streamDefinitions({ ...settings, APP_ENV: 'prod' });
    const [staging] = streamDefinitions({ ...settings, APP_ENV: 'staging' });
    expect(local).toMatchObject({ name: 'MICRODAO_EVENTS', replicas: 1, duplicateWindowMs: 120_000 });
    expect(local!.subjects).toEqual(eventTypes.map((type) => `microdao.${type}`));
    expect(localDlq).toMatchObject({ name: 'MICRODAO_EVENTS_DLQ', subjects: ['microdao.dead_letter.>'] });
    expect(prod).toMatchObject({ replicas: 3, duplicateWindowMs: 600_000 });
    expect(staging).toEqual(prod);
    expect(eventTypeOfSubject('microdao', 'microdao.message.created')).toBe('message.created');
  });

  it('keeps event subjects and dead-letter subjects apart', () => {
    const types: string[] = eventTypes;
    expect(types.filter((type) => type === DEAD_LETTER_TOKEN || type.startsWith(`${DEAD_LETTER_TOKEN}.`))).toEqual([]);
  });

  it('refuses a subject prefix with wildcards or empty tokens', () => {
    for (const prefix of ['micro.*', 'micro.>', 'micro..dao', 'micro dao']) {
      const result = parseConfig({ APP_ENV: 'test', NATS_SUBJECT_PREFIX: prefix });
      expect(result.ok, prefix).toBe(false);
      if (!result.ok) expect(result.problems.map((p) => p.variable)).toContain('NATS_SUBJECT_PREFIX');
    }
    const fine = parseConfig({ APP_ENV: 'test', NATS_SUBJECT_PREFIX: 'tenant-a.microdao' });
    expect(fine.ok).toBe(true);
  });

  it('provisions idempotently: creates, leaves alone, then repairs drift', async () => {
    const streams = freshStreams();
    const definitions = streamDefinitions(streams);
    try {
      const names = definitions.map((d) => d.name);
      const created = await ensureStreams(connection.jsm, definitions);
      expect(created).toEqual(Object.fromEntries(names.map((n) => [n, 'created'])));
      expect(await ensureStreams(connection.jsm, definitions)).toEqual(Object.fromEntries(names.map((n) => [n, 'unchanged'])));

      await connection.jsm.streams.update(names[0]!, { subjects: definitions[0]!.subjects.slice(1), max_age: 3_600_000_000_000 });
      expect((await ensureStreams(connection.jsm, definitions))[names[0]!]).toBe('updated');
      const info = await connection.jsm.streams.info(names[0]!);
      expect(info.config.subjects).toEqual(definitions[0]!.subjects);
      expect(info.config.max_age).toBe(definitions[0]!.maxAgeMs * 1_000_000);
      expect(info.config.duplicate_window).toBe(120_000_000_000);
      expect(info.config.num_replicas).toBe(1);
    } finally {
      await deleteStreams(connection.jsm, streams);
    }
  });
});

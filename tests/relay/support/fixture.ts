// The set-up relay and consumer tests share: one connection to the shared NATS server for the file, and per
// test a fresh database and freshly provisioned streams, removed with everything else the test registered.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../harness/database.ts';
import { testServices } from '../../harness/services.ts';
import { connectJetStream, deleteStreams, freshStreams, provision, type StreamSettings } from './relay-env.ts';

export interface RelayFixture {
  /** The file's connection to the shared NATS server (open from beforeAll to afterAll). */
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** Steps to run after the current test, last registered first; a failing step does not stop the others. */
  afterTest(...steps: (() => Promise<unknown>)[]): void;
  /** A fresh database and provisioned fresh streams, both removed after the test. */
  setUp(label: string): Promise<{ db: TestDatabase; streams: StreamSettings }>;
}

/** Registers the hooks of a test file that works against the shared NATS server; call it at the top level. */
export function useSharedNats(): RelayFixture {
  let connection: Awaited<ReturnType<typeof connectJetStream>> | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    connection = await connectJetStream(testServices.natsUrl);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  afterAll(async () => {
    await connection?.nc.close();
  });
  const connected = () => {
    if (!connection) throw new Error('not connected to NATS yet: use the fixture inside tests and hooks, not at the top level');
    return connection;
  };
  const fixture: RelayFixture = {
    get nc() {
      return connected().nc;
    },
    get jsm() {
      return connected().jsm;
    },
    afterTest(...steps) {
      cleanups.push(...steps);
    },
    async setUp(label) {
      const db = await createTestDatabase(label);
      const streams = freshStreams();
      await provision(fixture.jsm, streams);
      fixture.afterTest(
        () => db.drop(),
        () => deleteStreams(fixture.jsm, streams),
      );
      return { db, streams };
    },
  };
  return fixture;
}

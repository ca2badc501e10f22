// scripts/nats-r3-drill.sh: the event stream with production settings (R3, the prod duplicate window) on a
// three-node local NATS cluster; the stream's leader is killed while a publisher sends events the way the relay
// does (Nats-Msg-Id = event id, an aggregate's next event only after the previous was acknowledged, retry of
// the same id until acknowledged). Afterwards the stream must hold every event exactly once, in order per
// aggregate. Servers, stores and logs live in a temporary folder, removed at the end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { subjectFor } from '../../../functions/_shared/events/catalog.ts';
import { eventStreamDefinition } from '../../../functions/_shared/events/streams.ts';
import { ensureStream } from '../../../workers/lib/streams.ts';
import { sleep, SupervisedProcess, waitUntil } from '../../local-stack/processes.ts';
import { ephemeralPort, isPortFree } from '../../local-stack/state.ts';
import { RecoveryError, say } from './connection.ts';

const SCRIPT = 'nats-r3-drill';

export interface NatsDrillReport {
  format: 'microdao-nats-r3-drill/1';
  result: 'pass' | 'fail';
  events: number;
  stored: number;
  lost: number;
  duplicated: number;
  out_of_order: number;
  killed_leader: string;
  new_leader: string;
  /** Publishes that failed and were retried with the same id while the cluster elected a new leader. */
  retried_publishes: number;
  /** Longest wait of one event for its acknowledgement (the publisher-visible outage). */
  longest_publish_ms: number;
  failure?: string;
}

interface Node {
  name: string;
  clientPort: number;
  process?: SupervisedProcess;
}

/** Retries a cluster request while a new leader is being elected (a request then times out or finds no leader). */
async function duringElection<T>(what: string, request: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (Date.now() > deadline) throw new RecoveryError(`${what}: ${(error as Error).message}`);
      await sleep(250);
    }
  }
}

export async function runNatsR3Drill({
  aggregates = 10,
  perAggregate = 60,
}: { aggregates?: number; perAggregate?: number } = {}): Promise<NatsDrillReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdao-nats-r3-'));
  const nodes: Node[] = [];
  const report: NatsDrillReport = {
    format: 'microdao-nats-r3-drill/1',
    result: 'fail',
    events: aggregates * perAggregate,
    stored: 0,
    lost: 0,
    duplicated: 0,
    out_of_order: 0,
    killed_leader: '',
    new_leader: '',
    retried_publishes: 0,
    longest_publish_ms: 0,
  };
  let nc: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    const routePorts = [await ephemeralPort(), await ephemeralPort(), await ephemeralPort()];
    for (let i = 0; i < 3; i += 1) {
      const name = `drill-n${i + 1}`;
      const clientPort = await ephemeralPort();
      const config = path.join(dir, `${name}.conf`);
      writeFileSync(
        config,
        [
          `server_name: ${name}`,
          `listen: 127.0.0.1:${clientPort}`,
          `jetstream { store_dir: "${path.join(dir, name)}" }`,
          `cluster { name: drill, listen: 127.0.0.1:${routePorts[i]}, routes: [${routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}] }`,
          '',
        ].join('\n'),
      );
      nodes.push({ name, clientPort });
      nodes[i]!.process = new SupervisedProcess({
        name,
        program: 'nats-server',
        args: ['-c', config],
        env: process.env,
        cwd: dir,
        logFile: path.join(dir, `${name}.log`),
        echo: false,
      });
    }
    for (const node of nodes)
      await waitUntil(`${node.name} to listen`, async () => !(await isPortFree(node.clientPort)), {
        timeoutMs: 30_000,
        intervalMs: 100,
        giveUp: () => (node.process!.running ? undefined : `it exited: ${node.process!.tail()}`),
      });
    nc = await connect({
      servers: nodes.map((n) => `127.0.0.1:${n.clientPort}`),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      name: 'nats-r3-drill',
    });
    const jsm = await duringElection('JetStream to answer on the new cluster', () => jetstreamManager(nc!));
    // the production stream settings (staging mirrors prod), under the drill's own name and subjects
    const definition = eventStreamDefinition({ APP_ENV: 'prod', NATS_STREAM_EVENTS: 'DRILL_EVENTS', NATS_SUBJECT_PREFIX: 'drill' });
    if (definition.replicas !== 3)
      throw new RecoveryError(`production streams are expected to be R3, the catalog says R${definition.replicas}`);
    await waitUntil(
      'the cluster to elect a meta leader and create the R3 stream',
      async () => {
        try {
          await ensureStream(jsm, definition);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const leaderOf = () =>
      duringElection('reading the stream leader', async () => (await jsm.streams.info(definition.name)).cluster?.leader ?? '');
    await waitUntil('the stream to have a leader', async () => (await leaderOf().catch(() => '')) !== '', {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const js = jetstream(nc);
    const subject = subjectFor('drill', 'message.created');

    let acknowledged = 0;
    const killAfter = Math.floor(report.events / 3);
    let killing: Promise<void> | undefined;
    const publishAggregate = async (aggregate: number) => {
      for (let n = 0; n < perAggregate; n += 1) {
        const msgID = `agg${aggregate}-${n}`;
        const started = performance.now();
        for (let attempt = 1; ; attempt += 1) {
          try {
            await js.publish(subject, JSON.stringify({ aggregate, n }), { msgID, timeout: 2000 });
            break;
          } catch (error) {
            if (performance.now() - started > 60_000)
              throw new RecoveryError(`event ${msgID} was not acknowledged within 60 s: ${(error as Error).message}`);
            report.retried_publishes += 1;
            await sleep(100);
          }
        }
        report.longest_publish_ms = Math.max(report.longest_publish_ms, Math.round(performance.now() - started));
        acknowledged += 1;
        if (acknowledged === killAfter) {
          killing = (async () => {
            report.killed_leader = await leaderOf();
            const victim = nodes.find((node) => node.name === report.killed_leader);
            if (!victim) throw new RecoveryError(`no node named ${report.killed_leader}`);
            say(SCRIPT, `killing the stream leader ${victim.name} after ${acknowledged} events`);
            victim.process!.kill();
            await victim.process!.exited;
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: aggregates }, (_, a) => publishAggregate(a)));
    await killing;
    await waitUntil('a new stream leader', async () => ![report.killed_leader, ''].includes(await leaderOf()), {
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    report.new_leader = await leaderOf();

    // read back every stored message in stream order
    const { state } = await duringElection('reading the stream state', () => jsm.streams.info(definition.name));
    report.stored = state.messages;
    const consumer = await duringElection('creating a reader', () => js.consumers.get(definition.name));
    const seen = new Map<string, number>();
    const lastOfAggregate = new Map<number, number>();
    const messages = await consumer.consume({ max_messages: 500 });
    const timer = setTimeout(() => void messages.close(), 30_000);
    for await (const m of messages) {
      const id = m.headers?.get('Nats-Msg-Id') ?? '';
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const { aggregate, n } = m.json<{ aggregate: number; n: number }>();
      if ((lastOfAggregate.get(aggregate) ?? -1) >= n) report.out_of_order += 1;
      lastOfAggregate.set(aggregate, n);
      if (m.seq >= state.last_seq) break;
    }
    clearTimeout(timer);
    await messages.close();
    for (let a = 0; a < aggregates; a += 1) for (let n = 0; n < perAggregate; n += 1) if (!seen.has(`agg${a}-${n}`)) report.lost += 1;
    report.duplicated = [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
    if (report.lost || report.duplicated || report.out_of_order)
      throw new RecoveryError(
        `after the leader loss: ${report.lost} lost, ${report.duplicated} duplicated, ${report.out_of_order} out of order`,
      );
    if (!report.killed_leader || report.new_leader === report.killed_leader) throw new RecoveryError('the stream leader was not replaced');
    report.result = 'pass';
    return report;
  } catch (error) {
    report.failure = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    await nc?.close().catch(() => undefined);
    for (const node of nodes) await node.process?.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: { events: { type: 'string', default: '600' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
  });
  const events = Number(values.events);
  if (!Number.isInteger(events) || events < 30)
    throw new RecoveryError(`--events must be an integer of at least 30, not '${values.events}'`);
  if (values['dry-run']) {
    process.stdout.write(
      [
        '# three nats-servers (JetStream, one cluster) on free ports; the event stream with prod settings (R3)',
        `# ${events} events over 10 aggregates, Nats-Msg-Id = event id, per-aggregate order, retry until acknowledged`,
        '# after a third of them: SIGKILL the stream leader',
        '# read the stream back: 0 lost, 0 duplicated, order kept per aggregate, a new leader',
        '',
      ].join('\n'),
    );
    return;
  }
  const report = await runNatsR3Drill({ aggregates: 10, perAggregate: Math.floor(events / 10) });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  say(
    SCRIPT,
    `PASS: ${report.events} events, leader ${report.killed_leader} killed → ${report.new_leader}; 0 lost, 0 duplicated, order kept`,
  );
}

main().catch((error: unknown) => {
  // a known failure is one sentence; anything else keeps its stack so the failing request can be found
  say(SCRIPT, `error: ${error instanceof RecoveryError ? error.message : error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});

// What `npm run outbox:status` prints: the outbox (backlog, oldest unprocessed event, retries, dead letters,
// who holds which lane) and each stream with its consumers' pending counts.
// Reading lives in functions/_shared/outbox-status.ts (the admin API reads the same numbers); this file
// only prints them.
import type { OutboxStatus, StreamStatus } from '../../functions/_shared/outbox-status.ts';

export { readOutboxStatus, readStreamStatus } from '../../functions/_shared/outbox-status.ts';
export type { OutboxStatus, StreamStatus };

const count = (n: number) => n.toLocaleString('en-US');

function age(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function formatOutboxStatus(status: OutboxStatus): string {
  const lines = [
    'outbox',
    `  backlog              ${count(status.backlogEvents)} events${status.waitingForRetryEvents ? ` (${count(status.waitingForRetryEvents)} waiting to retry)` : ''}`,
    `  oldest unprocessed   ${status.backlogEvents ? `${age(status.oldestUnprocessedAgeSeconds)} old` : '-'}`,
    `  dead letters         ${count(status.deadLetterEvents)}${status.deadLetterEvents ? ' (public.outbox_dead_letters; requeue with `npm run outbox:requeue`)' : ''}`,
    `  published, retained  ~${count(status.processedEvents)} (estimated from the table statistics)`,
  ];
  const held = status.laneHolders.reduce((n, h) => n + h.lanes.length, 0);
  lines.push(
    `  lanes                ${held}/${status.laneCount} held${held < status.laneCount ? ' — lanes without a relay are not published' : ''}`,
  );
  for (const holder of status.laneHolders) {
    lines.push(`    relay pid ${holder.pid}${holder.clientAddress ? ` (${holder.clientAddress})` : ''}: ${holder.lanes.join(',')}`);
  }
  for (const dead of status.newestDeadLetters) {
    lines.push(
      `  dead letter ${dead.id} ${dead.eventType} ${dead.aggregate} after ${dead.attempts} attempts at ${dead.deadLetteredAt}: ${dead.lastError ?? ''}`,
    );
  }
  return lines.join('\n');
}

export function formatStreamStatus(streams: StreamStatus[]): string {
  const lines: string[] = [];
  for (const stream of streams) {
    if (!stream.found) {
      lines.push(`stream ${stream.name}: not found (the relay creates it at start; or run \`npm run outbox:provision\`)`);
      continue;
    }
    lines.push(
      `stream ${stream.name}: ${count(stream.messages)} messages, ${count(stream.bytes)} bytes, seq ${stream.firstSeq}..${stream.lastSeq}`,
    );
    if (stream.consumers.length === 0) lines.push('  no consumers');
    for (const c of stream.consumers) {
      lines.push(
        `  consumer ${c.name}: ${count(c.pending)} pending, ${count(c.ackPending)} awaiting ack, ${count(c.redelivered)} redelivered, ${c.waitingPulls} pulls waiting`,
      );
    }
  }
  return lines.join('\n');
}

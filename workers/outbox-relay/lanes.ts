// Lane leases: the outbox is split into lanes by a hash of the aggregate (outbox_events.lane), and a relay
// publishes only the lanes it holds, each held by a session advisory lock. Relays share the lanes evenly:
// each counts the relays alive (their lease sessions in pg_stat_activity), takes free lanes up to its share
// and gives back lanes above it once nothing of theirs is in flight. A relay that dies loses its session and
// with it its locks, so the others pick its lanes up at their next tick.
import type { Logger } from '../../functions/_shared/log.ts';
import type { Sql } from '../lib/postgres.ts';

/** application_name of a relay's lease session; how relays count each other. */
export const LEASE_APPLICATION_NAME = 'microdao-outbox-relay-lease';

export interface LaneLeaseOptions {
  laneCount: number;
  lockClass: number;
  /** Events of the lane in flight (0 lets the lane go); any claim running counts for every lane. */
  inFlight: (lane: number) => number;
  /** The lease session is new (first tick, or a reconnect after the old one died): LISTEN again. */
  onNewSession: (session: Sql) => Promise<void>;
  onChange: (lanes: number[]) => void;
  logger: Logger;
}

export class LaneLeases {
  private readonly held = new Set<number>();
  private readonly giving = new Set<number>();
  private sessionPid: number | undefined;

  constructor(
    private readonly session: Sql,
    private readonly options: LaneLeaseOptions,
  ) {}

  /** Lanes this relay may claim from right now. */
  claimable(): number[] {
    return [...this.held].filter((lane) => !this.giving.has(lane)).sort((a, b) => a - b);
  }

  /** Re-reads which locks the session really holds, then takes or gives lanes toward a fair share. */
  async rebalance(): Promise<void> {
    const before = this.claimable().join(',');
    try {
      await this.rebalanceOnce();
    } catch (error) {
      // the session may be gone and its locks with it: claim nothing until a tick sees the truth again
      this.held.clear();
      this.giving.clear();
      this.options.logger.warn('lane lease session failed; pausing until it is back', { error: (error as Error).message });
    }
    const after = this.claimable();
    if (after.join(',') !== before) this.options.onChange(after);
  }

  /** Gives every lane back (on shutdown, after the last batch is recorded). */
  async releaseAll(): Promise<void> {
    this.held.clear();
    this.giving.clear();
    await this.session`select pg_advisory_unlock_all()`;
  }

  private async rebalanceOnce(): Promise<void> {
    const { session } = this;
    const { laneCount, lockClass } = this.options;
    const [state] = await session<{ pid: number; relays: number }[]>`
      select pg_backend_pid() as pid,
        (select count(*) from pg_stat_activity
          where datname = current_database() and application_name = ${LEASE_APPLICATION_NAME})::int as relays`;
    if (state!.pid !== this.sessionPid) {
      this.held.clear();
      this.giving.clear();
      await this.options.onNewSession(session);
      this.sessionPid = state!.pid;
    }
    const locks = await session<{ lane: number }[]>`
      select objid::int as lane from pg_locks
      where locktype = 'advisory' and classid = ${lockClass}::oid and objsubid = 2 and granted and pid = pg_backend_pid()`;
    const actual = new Set(locks.map((l) => l.lane));
    for (const lane of this.held) if (!actual.has(lane)) this.held.delete(lane);
    for (const lane of actual) this.held.add(lane);
    for (const lane of this.giving) if (!this.held.has(lane)) this.giving.delete(lane);

    const share = Math.ceil(laneCount / Math.max(1, state!.relays));
    let keeping = this.held.size - this.giving.size;
    for (const lane of [...this.held].sort((a, b) => b - a)) {
      if (keeping <= share) break;
      if (!this.giving.has(lane)) {
        this.giving.add(lane);
        keeping -= 1;
      }
    }
    for (const lane of [...this.giving]) {
      if (this.options.inFlight(lane) > 0) continue;
      await session`select pg_advisory_unlock(${lockClass}, ${lane})`;
      this.giving.delete(lane);
      this.held.delete(lane);
    }
    if (keeping < share) {
      const free = shuffled([...Array(laneCount).keys()].filter((lane) => !this.held.has(lane)));
      for (const lane of free) {
        if (keeping >= share) break;
        const [row] = await session<{ ok: boolean }[]>`select pg_try_advisory_lock(${lockClass}, ${lane}) as ok`;
        if (row!.ok) {
          this.held.add(lane);
          keeping += 1;
        }
      }
    }
  }
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

// One coarse clock and one interval timer for all connections of a server: a connection arms a
// timeout by storing a deadline number, so keep-alive traffic creates and re-arms no timers at all.

export interface DeadlineOwner {
  /** Absolute time (sweeper clock, ms) at which onDeadline() must run; Infinity when unarmed. */
  deadline: number;
  onDeadline(now: number): void;
}

export class DeadlineSweeper {
  /** Where time comes from; tests drive a connection's timers deterministically by replacing it. */
  clock: () => number = Date.now;
  /** Cached clock, refreshed every tick: deadlines are exact to within one tick, like nginx's cached time. */
  now = Date.now();
  readonly tickMs: number;
  private readonly owners = new Set<DeadlineOwner>();
  private timer: NodeJS.Timeout | null = null;

  /** tickMs: the timer resolution; callers derive it from their shortest timeout. */
  constructor(tickMs: number) {
    this.tickMs = tickMs;
  }

  add(owner: DeadlineOwner): void {
    this.owners.add(owner);
    if (this.timer === null) {
      this.now = this.clock();
      this.timer = setInterval(sweep, this.tickMs, this);
      // The sockets keep the process alive, never the clock.
      this.timer.unref();
    }
  }

  delete(owner: DeadlineOwner): void {
    this.owners.delete(owner);
    if (this.owners.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  get size(): number {
    return this.owners.size;
  }

  /** Fires every due deadline now; also used by the tick. */
  runDue(): void {
    const now = (this.now = this.clock());
    for (const owner of this.owners) {
      if (owner.deadline <= now) owner.onDeadline(now);
    }
  }
}

function sweep(sweeper: DeadlineSweeper): void {
  sweeper.runDue();
}

/** A tick of an eighth of the shortest timeout keeps every deadline within 12.5 % of its value,
 * bounded to 5 ms .. 500 ms so tiny test timeouts do not spin and 10k idle sockets cost one
 * pass of number comparisons twice a second. */
export function tickFor(shortestTimeoutMs: number): number {
  return Math.min(500, Math.max(5, Math.floor(shortestTimeoutMs / 8)));
}

// When to restart a daemon that died: at most `limit` restarts within a sliding
// window (5 in 3 minutes by default); past that it stays down until the user
// restarts it, so a daemon that crashes at start does not loop forever. Pure.

export interface RestartDecision {
  restart: boolean;
  // Exits inside the window, this one included.
  recentExits: number;
}

export class RestartPolicy {
  private exits: number[] = [];

  constructor(
    readonly limit = 5,
    readonly windowMs = 3 * 60 * 1000,
  ) {}

  // Records an unexpected exit at `now` (ms) and says whether to restart.
  onUnexpectedExit(now: number): RestartDecision {
    this.exits = this.exits.filter((t) => now - t < this.windowMs);
    this.exits.push(now);
    return { restart: this.exits.length <= this.limit, recentExits: this.exits.length };
  }

  // A restart the user asked for starts a fresh count.
  reset(): void {
    this.exits = [];
  }
}

export function windowText(ms: number): string {
  if (ms % 60000 === 0) return `${ms / 60000} minute${ms === 60000 ? '' : 's'}`;
  return `${Math.round(ms / 1000)} seconds`;
}

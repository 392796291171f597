/**
 * Wake-ups for the claim loops. poke() ends one waiting loop's wait (the one that has
 * waited longest), or, when none is waiting, makes the next wait return at once; pokes
 * while nobody waits count as one. One poke wakes one loop, never all of them: a loop
 * that then finds a full batch pokes again to bring in the next.
 */
export class Wakeup {
  private pending = false;
  private readonly waiters: Array<() => void> = [];

  poke(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.pending = true;
  }

  /** Resolves on a poke, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(wake);
        if (index !== -1) this.waiters.splice(index, 1);
        resolve();
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }

  /** Ends every wait (used at shutdown). */
  pokeAll(): void {
    while (this.waiters.length > 0) this.waiters.shift()!();
    this.pending = true;
  }
}

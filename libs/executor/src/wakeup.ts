/**
 * A wake-up signal for the claim loop. poke() ends the current wait, or, when nobody is
 * waiting, makes the next wait return at once; many pokes in between count as one.
 */
export class Wakeup {
  private pending = false;
  private resolveWait: (() => void) | null = null;

  poke(): void {
    if (this.resolveWait) {
      const resolve = this.resolveWait;
      this.resolveWait = null;
      resolve();
    } else {
      this.pending = true;
    }
  }

  /** Resolves on the next poke, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.resolveWait = null;
        resolve();
      }, timeoutMs);
      this.resolveWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Every timer the fake sets, so that close() can cancel what is still pending. */
export class Timers {
  private readonly handles = new Set<NodeJS.Timeout>();
  private stopped = false;

  /** Runs `task` after `ms`; returns a function that cancels it. */
  after(ms: number, task: () => void): () => void {
    if (this.stopped) return () => undefined;
    const handle = setTimeout(
      () => {
        this.handles.delete(handle);
        task();
      },
      Math.max(0, ms),
    );
    this.handles.add(handle);
    return () => {
      clearTimeout(handle);
      this.handles.delete(handle);
    };
  }

  stop(): void {
    this.stopped = true;
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }
}

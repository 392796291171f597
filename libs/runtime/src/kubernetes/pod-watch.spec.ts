import { EventEmitter } from 'node:events';
import type { KubeClient } from './kube-client';
import { PodWatch } from './pod-watch';

/**
 * An informer as @kubernetes/client-node's behaves: start() says 'connect' first, then
 * lists and watches, and reports a failed request as 'error' (start() still resolves).
 */
class ScriptedInformer extends EventEmitter {
  /** What each start() does after saying 'connect': resolve, or fail with an error. */
  readonly outcomes: ('ok' | Error)[] = [];
  /** Resolves the start() in progress (the list and watch requests being answered). */
  answer: () => void = () => undefined;

  async start(): Promise<void> {
    this.emit('connect');
    await new Promise<void>((resolve) => (this.answer = resolve));
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') this.emit('error', outcome);
  }

  async stop(): Promise<void> {}
}

function watchOver(informer: ScriptedInformer): PodWatch {
  const client = {
    podInformer: () => informer,
    observeWatch: () => undefined,
  } as unknown as KubeClient;
  return new PodWatch(client, 'danube.dev/topic in (t)');
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PodWatch health', () => {
  it('is healthy only once the list and watch were answered, not when the informer starts connecting', async () => {
    const informer = new ScriptedInformer();
    const watch = watchOver(informer);
    const started = watch.start();
    await tick();
    expect(watch.healthy).toBe(false); // 'connect' was said; nothing answered yet
    informer.answer();
    await started;
    expect(watch.healthy).toBe(true);
    await watch.stop();
  });

  it('stays unhealthy while a reconnection to an unreachable API is in progress', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const informer = new ScriptedInformer();
      informer.outcomes.push(new Error('connect ECONNREFUSED 127.0.0.1:1'));
      const watch = watchOver(informer);
      const started = watch.start();
      informer.answer();
      await started;
      expect(watch.healthy).toBe(false);

      // The restart with backoff: 'connect' again, and the list not yet refused.
      informer.outcomes.push(new Error('connect ECONNREFUSED 127.0.0.1:1'));
      jest.advanceTimersByTime(500);
      await tick();
      expect(watch.healthy).toBe(false);
      informer.answer();
      await tick();
      expect(watch.healthy).toBe(false);

      // The next restart is answered: healthy again.
      jest.advanceTimersByTime(1000);
      await tick();
      expect(watch.healthy).toBe(false);
      informer.answer();
      await tick();
      await tick();
      expect(watch.healthy).toBe(true);
      await watch.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});

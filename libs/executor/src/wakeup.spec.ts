import { Wakeup } from './wakeup';

describe('Wakeup', () => {
  it('a poke with nobody waiting makes the next wait return at once, once', async () => {
    const wakeup = new Wakeup();
    wakeup.poke();
    wakeup.poke();
    const started = Date.now();
    await wakeup.wait(10_000);
    expect(Date.now() - started).toBeLessThan(50);
    const timedOut = await Promise.race([
      wakeup.wait(30).then(() => 'woke'),
      new Promise((r) => setTimeout(() => r('still waiting'), 10)),
    ]);
    expect(timedOut).toBe('still waiting');
  });

  it('one poke wakes one waiter, the longest waiting', async () => {
    const wakeup = new Wakeup();
    const woken: string[] = [];
    const a = wakeup.wait(10_000).then(() => woken.push('a'));
    const b = wakeup.wait(10_000).then(() => woken.push('b'));
    wakeup.poke();
    await a;
    await new Promise((r) => setTimeout(r, 10));
    expect(woken).toEqual(['a']);
    wakeup.poke();
    await b;
    expect(woken).toEqual(['a', 'b']);
  });

  it('a wait ends by itself after its timeout, and pokeAll ends them all', async () => {
    const wakeup = new Wakeup();
    const started = Date.now();
    await wakeup.wait(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const both = Promise.all([wakeup.wait(10_000), wakeup.wait(10_000)]);
    wakeup.pokeAll();
    await both;
  });
});

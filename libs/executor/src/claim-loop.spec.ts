import type { ClaimedJob } from '@danube/core';
import { ClaimLoop, type ClaimLoopHost, type ClaimLoopMode } from './claim-loop';

/** A host whose capacity, runtime and claims the test sets, recording what the loop asks. */
function host() {
  const state = {
    free: 2,
    problem: null as string | null,
    queued: [] as string[],
    failNextClaim: false,
    claims: [] as number[],
    started: [] as string[],
  };
  const impl: ClaimLoopHost = {
    freeSlots: () => state.free - state.started.length,
    runtimeProblem: () => state.problem,
    claim: async (limit) => {
      state.claims.push(limit);
      if (state.failNextClaim) {
        state.failNextClaim = false;
        throw new Error('connection refused');
      }
      const ids = state.queued.splice(0, limit);
      return { jobs: ids.map((id) => ({ id }) as ClaimedJob), sentAt: performance.now() };
    },
    run: (jobs) => state.started.push(...jobs.map((j) => j.id)),
  };
  return { state, impl };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('ClaimLoop', () => {
  let loop: ClaimLoop;
  let modes: ClaimLoopMode[];
  let h: ReturnType<typeof host>;

  beforeEach(() => {
    h = host();
    modes = [];
    loop = new ClaimLoop(
      h.impl,
      { batchSize: 5, pollIntervalMs: 60_000, loops: 1 },
      (_loop, mode) => modes.push(mode),
    );
  });
  afterEach(() => loop.stop());

  it('claims, goes idle on a short batch, and claims again when poked', async () => {
    loop.start();
    await until('an empty claim', () => modes.includes('idle'));
    expect(h.state.claims).toEqual([2]);
    h.state.queued.push('1');
    loop.poke();
    await until('job 1 to start', () => h.state.started.includes('1'));
    expect(modes).toEqual(['claiming', 'idle', 'claiming', 'idle']);
  });

  it('is full while every slot runs, and claims again only when a slot frees', async () => {
    h.state.queued.push('1', '2', '3');
    loop.start();
    await until('the loop to be full', () => loop.currentModes[0] === 'full');
    expect(h.state.started).toEqual(['1', '2']);
    // A NOTIFY-like poke while full claims nothing: there is no room.
    loop.poke();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.state.claims).toEqual([2]);
    h.state.free = 3;
    loop.slotFreed();
    await until('job 3 to start', () => h.state.started.includes('3'));
    expect(modes.slice(0, 3)).toEqual(['claiming', 'full', 'claiming']);
  });

  it('claims nothing while the runtime is not ready, and resumes when it is', async () => {
    h.state.problem = 'the Kubernetes API does not answer';
    h.state.queued.push('1');
    loop.start();
    await until('waiting for the runtime', () => modes.includes('waiting_for_runtime'));
    expect(h.state.claims).toEqual([]);
    h.state.problem = null;
    await until('job 1 to start', () => h.state.started.includes('1'));
    expect(modes.slice(0, 2)).toEqual(['waiting_for_runtime', 'claiming']);
  });

  it('backs off after a failed claim and tries again', async () => {
    h.state.failNextClaim = true;
    h.state.queued.push('1');
    loop.start();
    await until('job 1 to start', () => h.state.started.includes('1'));
    expect(modes.slice(0, 3)).toEqual(['claiming', 'backing_off', 'claiming']);
    expect(h.state.claims).toEqual([2, 2]);
  });

  it('stops: no claims after stop() resolves', async () => {
    loop.start();
    await until('idle', () => modes.includes('idle'));
    await loop.stop();
    expect(loop.currentModes).toEqual(['stopped']);
    h.state.queued.push('1');
    loop.poke();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.state.started).toEqual([]);
  });
});

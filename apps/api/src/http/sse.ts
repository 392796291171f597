import type { Request, Response } from 'express';

/** Quiet streams send a comment this often, so proxies and clients keep them open. */
const KEEPALIVE_MS = 15_000;
/** How often a following stream looks for news when the last look found none. */
export const FOLLOW_POLL_MS = 200;

export interface SseStream {
  send(event: { id?: string; type?: string; data: unknown }): void;
  /** Resolves after `ms`, or at once when the client goes away. */
  pause(ms: number): Promise<void>;
  readonly closed: boolean;
  end(): void;
}

/** Turns a response into a Server-Sent Events stream (text/event-stream). */
export function openSse(req: Request, res: Response): SseStream {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let closed = false;
  let wake: (() => void) | null = null;
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  req.on('close', () => {
    closed = true;
    clearInterval(keepalive);
    wake?.();
  });
  return {
    get closed() {
      return closed;
    },
    send({ id, type, data }) {
      if (closed) return;
      let frame = '';
      if (id !== undefined) frame += `id: ${id}\n`;
      if (type !== undefined) frame += `event: ${type}\n`;
      frame += `data: ${JSON.stringify(data)}\n\n`;
      res.write(frame);
    },
    pause(ms) {
      return new Promise((resolve) => {
        if (closed) return resolve();
        const timer = setTimeout(() => {
          wake = null;
          resolve();
        }, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    end() {
      clearInterval(keepalive);
      closed = true;
      res.end();
    },
  };
}

import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { InvalidArgumentError } from '@danube/core';

export const MAX_URL_LENGTH = 2048;

/** How long creating a webhook waits for its host to resolve and accept a connection. */
export const REACHABILITY_TIMEOUT_MS = 3000;

/** A webhook URL as written: http or https, with a host, no user name or password. */
export function checkWebhookUrl(value: string): URL {
  const refuse = (why: string) => new InvalidArgumentError(`url ${why}`, { field: 'url' });
  if (value.length > MAX_URL_LENGTH) throw refuse(`is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse(`${JSON.stringify(value)} is not a URL; give one like https://example.com/hook`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(`must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.hostname === '') throw refuse('has no host');
  // fetch() refuses such URLs, so every delivery would fail: say so now.
  if (url.username !== '' || url.password !== '') {
    throw refuse(
      'must not hold a user name or password; put a token in the path or query, and check the signature',
    );
  }
  return url;
}

/**
 * Whether the URL's host resolves and accepts a TCP connection on its port within the
 * timeout: a 400 naming `url` when not, so that a typo shows up at once rather than as
 * failed deliveries later. The connection is closed without sending anything.
 */
export async function checkReachable(
  url: URL,
  timeoutMs: number = REACHABILITY_TIMEOUT_MS,
): Promise<void> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const problem = await probe(host, port, timeoutMs);
  if (problem) {
    throw new InvalidArgumentError(`url is unreachable: ${host} ${problem}`, { field: 'url' });
  }
}

/** null when host:port accepts a connection within the time, else why not. */
async function probe(host: string, port: number, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  const seconds = `${timeoutMs / 1000} s`;
  let address: string;
  try {
    const resolved = await Promise.race([
      lookup(host),
      // getaddrinfo cannot be cancelled; its answer, if it ever comes, is ignored.
      new Promise<null>((resolve) => setTimeout(resolve, timeoutMs, null).unref()),
    ]);
    if (!resolved) return `did not resolve within ${seconds}`;
    address = resolved.address;
  } catch (error) {
    return `does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (problem: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(
      () => done(`did not accept a TCP connection on port ${port} within ${seconds}`),
      Math.max(0, deadline - Date.now()),
    );
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(
        error.code === 'ECONNREFUSED'
          ? `refused the connection on port ${port}`
          : `could not be connected to on port ${port} (${error.code ?? error.message})`,
      ),
    );
  });
}

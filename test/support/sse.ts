import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { withApiKey } from './api-keys';

export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

/**
 * Reads a Server-Sent Events stream with fetch until `until` says stop (or `timeoutMs`
 * passes, which fails); returns the events seen.
 */
export async function readSse(
  url: string,
  until: (events: SseEvent[]) => boolean,
  options: { lastEventId?: string; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 20_000);
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, {
      headers: withApiKey(url, {
        ...options.headers,
        ...(options.lastEventId && { 'last-event-id': options.lastEventId }),
      }),
      signal: abort.signal,
    });
    if (
      response.status !== 200 ||
      !response.headers.get('content-type')?.startsWith('text/event-stream')
    ) {
      throw new Error(`not an event stream: ${response.status} ${await response.text()}`);
    }
    let done = false;
    const parser = createParser({
      onEvent(message: EventSourceMessage) {
        if (done) return;
        events.push({ id: message.id, event: message.event, data: JSON.parse(message.data) });
        done = until(events);
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (done) break;
    }
    if (!done) throw new Error(`the stream ended early after ${events.length} events`);
    return events;
  } catch (error) {
    if (abort.signal.aborted) {
      throw new Error(
        `timed out reading ${url}; saw ${JSON.stringify(events.map((e) => e.event))}`,
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

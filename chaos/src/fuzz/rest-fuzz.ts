import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { withApiKey } from '../../../test/support/api-keys';

/** One request the fuzzer sends. */
export interface RestCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface FuzzTally {
  cases: number;
  /** Answers of 500 and above, or none at all. */
  serverErrors: number;
  examples: string[];
}

interface Route {
  method: string;
  /** OpenAPI path with {params}. */
  path: string;
  query: string[];
}

/** Request bodies that are valid, to be bent by the fuzzer field by field. */
const VALID_BODIES: Record<string, unknown> = {
  'POST /v1/jobs': { topic: 'fuzz', command: ['true'], runAt: '2099-01-01T00:00:00Z' },
  'POST /v1/jobs/batch': {
    jobs: [{ topic: 'fuzz', command: 'true', runAt: '2099-01-01T00:00:00Z' }],
  },
  'POST /v1/workflows': {
    name: 'fuzz',
    nodes: [
      { name: 'a', topic: 'fuzz', command: ['true'] },
      { name: 'b', topic: 'fuzz', command: 'true', dependsOn: ['a'] },
    ],
  },
  'PUT /v1/secrets/{name}': { value: 'fuzz-secret' },
};

/** The routes of the API, from its own OpenAPI document: every route, no list to forget. */
export async function routesOf(apiUrl: string): Promise<Route[]> {
  const document = (await (await fetch(`${apiUrl}/docs-json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    })),
  );
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '0', '-1', 'null', 'true', '../..', '%00', '\u0000', 'a'.repeat(5000)),
);

/** Values for a path parameter: ids of real objects, edge numbers and any text. */
function pathValue(known: string[]) {
  return fc.oneof(
    fc.constantFrom(...known),
    fc.bigInt({ min: -10n, max: 2n ** 64n }).map(String),
    fc.integer({ min: 1, max: 50 }).map(String),
    text,
  );
}

/** `value` with one field somewhere replaced by anything JSON (or removed). */
function bent(value: unknown) {
  const paths: (string | number)[][] = [];
  const walk = (node: unknown, at: (string | number)[]) => {
    paths.push(at);
    if (Array.isArray(node)) node.forEach((child, i) => walk(child, [...at, i]));
    else if (node && typeof node === 'object')
      for (const [key, child] of Object.entries(node)) walk(child, [...at, key]);
  };
  walk(value, []);
  return fc
    .tuple(
      fc.constantFrom(...paths),
      fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)),
    )
    .map(([path, replacement]) => {
      if (path.length === 0) return replacement;
      const copy = structuredClone(value) as Record<string | number, unknown>;
      let node = copy;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (replacement === undefined) delete node[last];
      else node[last] = replacement;
      return copy;
    });
}

/** Every kind of body: valid ones bent, any JSON, deep or wide, not JSON, compressed or not. */
function body(route: Route) {
  const valid = VALID_BODIES[`${route.method} ${route.path}`];
  const json = fc.oneof(
    ...(valid ? [bent(valid), bent(valid)] : []),
    fc.jsonValue({ maxDepth: 4 }),
    fc.integer({ min: 1, max: 200 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.dictionary(
      fc.constantFrom('__proto__', 'constructor', 'topic', 'jobs', 'nodes'),
      fc.jsonValue(),
    ),
  );
  return fc.oneof(
    json.map((value) => ({
      body: typeof value === 'string' ? value : (JSON.stringify(value) ?? ''),
    })),
    text.map((raw) => ({ body: raw })),
    json.map((value) => ({ body: gzipSync(JSON.stringify(value) ?? ''), encoding: 'gzip' })),
    fc
      .uint8Array({ maxLength: 64 })
      .map((bytes) => ({ body: Buffer.from(bytes), encoding: 'gzip' })),
  );
}

const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json'),
  fc.constantFrom(
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'application/json; charset=klingon',
    'text/plain',
    'application/x-www-form-urlencoded',
  ),
  fc.string({ maxLength: 30 }),
);

/** The cases for one route, `count` of them, the same for the same seed. */
export function casesFor(
  route: Route,
  known: Record<string, string[]>,
  count: number,
  seed: number,
): RestCase[] {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const arbitrary = fc.record({
    params: fc.tuple(...params.map((name) => pathValue(known[name] ?? known.id!))),
    query: fc.dictionary(
      fc.oneof(
        fc.constantFrom(...(route.query.length ? route.query : ['x'])),
        fc.string({ maxLength: 8 }),
      ),
      text,
      {
        maxKeys: 4,
      },
    ),
    payload: route.method === 'GET' || route.method === 'DELETE' ? fc.constant(null) : body(route),
    contentType,
  });
  return fc
    .sample(arbitrary, { numRuns: count, seed })
    .map(({ params: values, query, payload, contentType: type }) => {
      let path = route.path;
      params.forEach(
        (name, i) => (path = path.replace(`{${name}}`, percentEncode(String(values[i])))),
      );
      const search = new URLSearchParams(query as Record<string, string>).toString();
      const headers: Record<string, string> = {};
      if (payload) {
        // Only what can be a header value at all: fetch refuses the rest before sending.
        headers['content-type'] = type.replace(/[^\x20-\x7e]/g, '');
        if ('encoding' in payload && payload.encoding)
          headers['content-encoding'] = payload.encoding;
      }
      return {
        method: route.method,
        path: search ? `${path}?${search}` : path,
        headers,
        body: payload?.body,
      };
    });
}

/** Any text as a path segment, lone surrogates included (as UTF-8 would carry them). */
function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

/** Sends the cases, `parallel` at a time; counts answers of 500 and above and missing answers. */
export async function sendCases(
  apiUrl: string,
  cases: RestCase[],
  parallel = 8,
): Promise<FuzzTally> {
  const tally: FuzzTally = { cases: 0, serverErrors: 0, examples: [] };
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      tally.cases++;
      let problem: string | null = null;
      try {
        const response = await fetch(`${apiUrl}${c.path}`, {
          method: c.method,
          headers: withApiKey(apiUrl, c.headers),
          body: c.body,
          signal: AbortSignal.timeout(10_000),
        });
        // A stream (logs or events followed) answered: that is all we wait for.
        if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
          await response.body?.cancel();
        } else {
          const text = await response.text();
          if (response.status >= 500) problem = `${response.status}: ${text.slice(0, 200)}`;
        }
      } catch (error) {
        problem = `no answer: ${(error as Error).message}`;
      }
      if (problem) {
        tally.serverErrors++;
        if (tally.examples.length < 5) {
          const sent =
            c.body === undefined ? '' : ` body ${JSON.stringify(String(c.body).slice(0, 120))}`;
          tally.examples.push(
            `${c.method} ${c.path.slice(0, 120)} ${JSON.stringify(c.headers)}${sent} -> ${problem}`,
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return tally;
}

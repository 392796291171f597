import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import {
  loadJobServiceProto,
  type JobServiceClient,
  type UploadArtifactRequest,
} from '../../../libs/proto/src';
import type { FuzzTally } from './rest-fuzz';

export type GrpcMethod = 'getSecret' | 'reportStatus' | 'runStep' | 'uploadArtifact';
export const GRPC_METHODS: GrpcMethod[] = [
  'getSecret',
  'reportStatus',
  'runStep',
  'uploadArtifact',
];

/** Statuses that mean the server failed, not the request: the gRPC twin of a 5xx. */
const SERVER_FAILURES = new Set([
  grpc.status.UNKNOWN,
  grpc.status.INTERNAL,
  grpc.status.DATA_LOSS,
  grpc.status.UNIMPLEMENTED,
  grpc.status.UNAVAILABLE,
]);

/** A running job the fuzzer may act as, with its token; and what else it knows. */
export interface GrpcTarget {
  address: string;
  runningJobId: string;
  /** A valid token of the running job's current attempt. */
  token: string;
  /** A validly signed token of another attempt (ended, or another job). */
  otherToken: string;
  secretName: string;
}

interface GrpcCase {
  token: string | null;
  request: unknown;
  /** UploadArtifact: the stream's messages. */
  messages?: unknown[];
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '0', '-1', '../x', '/etc/passwd', '\u0000', 'a'.repeat(3000)),
);

function cases(method: GrpcMethod, target: GrpcTarget, count: number, seed: number): GrpcCase[] {
  const token = fc.oneof(
    fc.constant(target.token),
    fc.constant(target.token),
    fc.constant(target.otherToken),
    fc.constant(null),
    text,
    fc.string().map((s) => `dnb1.${target.runningJobId}.1.x.${s}`),
  );
  const jobId = fc.oneof(
    fc.constant(target.runningJobId),
    fc.constant(target.runningJobId),
    fc.bigInt({ min: -5n, max: 2n ** 64n }).map(String),
    text,
  );
  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
    text,
    fc.integer({ min: 1, max: 2000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  );
  const requests: Record<GrpcMethod, fc.Arbitrary<unknown>> = {
    getSecret: fc.record({ jobId, name: fc.oneof(fc.constant(target.secretName), text) }),
    reportStatus: fc.record({
      jobId,
      progress: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
      message: text,
      resultJson: json,
    }),
    runStep: fc.record({
      jobId,
      command: fc.array(text, { maxLength: 4 }),
      script: fc.oneof(fc.constant(''), fc.constant('true'), text),
      env: fc.dictionary(text, text, { maxKeys: 3 }),
      image: text,
      name: text,
      timeoutSeconds: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      topic: fc.oneof(fc.constant(''), fc.constant('fuzz-steps'), text),
      requestId: text,
    }),
    uploadArtifact: fc.constant({}),
  };
  const header = fc.record({
    jobId,
    path: fc.oneof(fc.constantFrom('out.txt', 'a/b.bin'), text),
    contentType: text,
    size: fc
      .oneof(fc.integer({ min: 0, max: 64 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
      .map(String),
    sha256: fc.oneof(
      fc.constant(''),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
      text,
    ),
  });
  const message = fc.oneof(
    header.map((h) => ({ header: h })),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ chunk: Buffer.from(bytes) })),
  );
  const arbitrary = fc.record({
    token,
    request: requests[method],
    messages:
      method === 'uploadArtifact'
        ? fc.oneof(
            fc
              .tuple(
                header.map((h) => ({ header: h })),
                fc.array(message, { maxLength: 4 }),
              )
              .map(([h, rest]) => [h, ...rest]),
            fc.array(message, { maxLength: 5 }),
          )
        : fc.constant(undefined),
  });
  return fc.sample(arbitrary, { numRuns: count, seed }) as GrpcCase[];
}

/** Sends `count` cases of `method`, `parallel` at a time; counts server failures. */
export async function fuzzGrpc(
  target: GrpcTarget,
  method: GrpcMethod,
  count: number,
  seed: number,
  parallel = 16,
): Promise<FuzzTally> {
  const { danube } = loadJobServiceProto();
  const client: JobServiceClient = new danube.JobService(
    target.address,
    grpc.credentials.createInsecure(),
  );
  const tally: FuzzTally = { cases: 0, serverErrors: 0, examples: [] };
  const all = cases(method, target, count, seed);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const c = all[next++]!;
      tally.cases++;
      const metadata = new grpc.Metadata();
      if (c.token !== null) {
        try {
          metadata.set('authorization', `Bearer ${c.token}`);
        } catch {
          // Not a valid metadata value at all: grpc-js refuses it before sending.
          metadata.set('authorization', 'Bearer -');
        }
      }
      // RunStep waits for its step; a short deadline ends the wait (and cancels the step).
      const deadline = Date.now() + (method === 'runStep' ? 500 : 5000);
      const code = await call(client, method, c, metadata, deadline);
      if (SERVER_FAILURES.has(code.code)) {
        tally.serverErrors++;
        if (tally.examples.length < 5)
          tally.examples.push(
            `${method} ${JSON.stringify(c.request ?? c.messages).slice(0, 200)} -> ${grpc.status[code.code]}: ${code.details}`,
          );
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    client.close();
  }
  return tally;
}

function call(
  client: JobServiceClient,
  method: GrpcMethod,
  c: GrpcCase,
  metadata: grpc.Metadata,
  deadline: number,
): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    const done = (error: grpc.ServiceError | null) =>
      resolve(
        error
          ? { code: error.code, details: error.details }
          : { code: grpc.status.OK, details: '' },
      );
    try {
      if (method === 'uploadArtifact') {
        const stream = client.uploadArtifact(metadata, { deadline }, done);
        stream.on('error', () => undefined);
        for (const message of c.messages ?? []) stream.write(message as UploadArtifactRequest);
        stream.end();
      } else {
        (client[method] as (...args: unknown[]) => unknown)(
          c.request,
          metadata,
          { deadline },
          done,
        );
      }
    } catch (error) {
      // The client could not even encode the request (a value protobuf cannot carry).
      resolve({ code: grpc.status.OK, details: `not sent: ${(error as Error).message}` });
    }
  });
}

import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  loadJobServiceProto,
  type ReportStatusRequest__Output,
  type UploadArtifactRequest__Output,
} from '@danube/proto';

export interface FakeJobServiceOptions {
  /** Calls (of any method) refused with `failCode` before the service starts answering. */
  failFirst?: number;
  failCode?: grpc.status;
  /** Every call refused with this code. */
  refuseAll?: grpc.status;
  /** Uploads declaring more bytes are refused after their header, as ARTIFACT_MAX_BYTES does. */
  maxBytes?: number;
  /** Never answers: every call stays open until the client gives up. */
  hang?: boolean;
}

export interface StoredUpload {
  jobId: string;
  token: string | undefined;
  contentType: string;
  size: number;
  sha256: string;
  bytes: Buffer;
}

export interface FakeJobService {
  address: string;
  /** Completed uploads by artifact path (a path sent again replaces itself). */
  uploads: Map<string, StoredUpload>;
  /** ReportStatus requests, in order. */
  reports: { jobId: string; token: string | undefined; resultJson: string }[];
  /** Every call received, answered or not. */
  calls: { method: 'upload' | 'report'; at: number }[];
  stop(): void;
}

/**
 * A real danube.JobService on 127.0.0.1, with the parts of the real one the collector
 * relies on: uploads are checked against their declared size and sha256 and stored only
 * when complete; oversize uploads are refused with INVALID_ARGUMENT before any chunk.
 */
export async function startFakeJobService(
  options: FakeJobServiceOptions = {},
): Promise<FakeJobService> {
  const uploads = new Map<string, StoredUpload>();
  const reports: FakeJobService['reports'] = [];
  const calls: FakeJobService['calls'] = [];
  const token = (metadata: grpc.Metadata) =>
    metadata
      .get('authorization')[0]
      ?.toString()
      .replace(/^Bearer /, '');

  /** The refusal this call gets, if any, by the options. */
  const refusal = (method: 'upload' | 'report'): grpc.ServiceError | null | 'hang' => {
    calls.push({ method, at: Date.now() });
    if (options.hang) return 'hang';
    const code =
      options.refuseAll ??
      (calls.length <= (options.failFirst ?? 0)
        ? (options.failCode ?? grpc.status.UNAVAILABLE)
        : null);
    if (code === null) return null;
    const details = `refused call ${calls.length} with ${grpc.status[code]}`;
    return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
  };

  const server = new grpc.Server();
  server.addService(loadJobServiceProto().danube.JobService.service, {
    uploadArtifact(
      call: grpc.ServerReadableStream<UploadArtifactRequest__Output, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      let header: UploadArtifactRequest__Output['header'] | null = null;
      const chunks: Buffer[] = [];
      let answered = false;
      const answer = (error: Partial<grpc.ServiceError> | null, response?: unknown) => {
        if (answered) return;
        answered = true;
        callback(error, response);
      };
      const invalid = (details: string) =>
        answer({ code: grpc.status.INVALID_ARGUMENT, details, message: details });
      call.on('data', (message: UploadArtifactRequest__Output) => {
        if (answered) return;
        if (!header) {
          const refused = refusal('upload');
          if (refused === 'hang') {
            answered = true;
            return;
          }
          if (refused) return answer(refused);
          if (message.payload !== 'header' || !message.header)
            return invalid('the first message must carry the header');
          header = message.header;
          if (options.maxBytes !== undefined && Number(header.size) > options.maxBytes)
            return invalid(
              `${header.path} is ${header.size} bytes; artifacts over ${options.maxBytes} bytes are refused (ARTIFACT_MAX_BYTES)`,
            );
          return;
        }
        chunks.push(message.chunk!);
      });
      call.on('end', () => {
        if (answered || !header) return;
        const bytes = Buffer.concat(chunks);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (bytes.length !== Number(header.size))
          return invalid(`sent ${bytes.length} bytes, the header said ${header.size}`);
        if (header.sha256 && header.sha256 !== sha256) return invalid('sha256 does not match');
        uploads.set(header.path, {
          jobId: header.jobId,
          token: token(call.metadata),
          contentType: header.contentType,
          size: bytes.length,
          sha256,
          bytes,
        });
        answer(null, { artifactId: String(uploads.size), size: bytes.length, sha256 });
      });
    },
    reportStatus(
      call: grpc.ServerUnaryCall<ReportStatusRequest__Output, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const refused = refusal('report');
      if (refused === 'hang') return;
      if (refused) return callback(refused);
      reports.push({
        jobId: call.request.jobId,
        token: token(call.metadata),
        resultJson: call.request.resultJson,
      });
      callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    uploads,
    reports,
    calls,
    stop: () => server.forceShutdown(),
  };
}

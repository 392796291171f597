// Original file: proto/danube.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  DownloadArtifactRequest as _danube_DownloadArtifactRequest,
  DownloadArtifactRequest__Output as _danube_DownloadArtifactRequest__Output,
} from '../danube/DownloadArtifactRequest';
import type {
  DownloadArtifactResponse as _danube_DownloadArtifactResponse,
  DownloadArtifactResponse__Output as _danube_DownloadArtifactResponse__Output,
} from '../danube/DownloadArtifactResponse';
import type {
  GetSecretRequest as _danube_GetSecretRequest,
  GetSecretRequest__Output as _danube_GetSecretRequest__Output,
} from '../danube/GetSecretRequest';
import type {
  GetSecretResponse as _danube_GetSecretResponse,
  GetSecretResponse__Output as _danube_GetSecretResponse__Output,
} from '../danube/GetSecretResponse';
import type {
  ReportStatusRequest as _danube_ReportStatusRequest,
  ReportStatusRequest__Output as _danube_ReportStatusRequest__Output,
} from '../danube/ReportStatusRequest';
import type {
  ReportStatusResponse as _danube_ReportStatusResponse,
  ReportStatusResponse__Output as _danube_ReportStatusResponse__Output,
} from '../danube/ReportStatusResponse';
import type {
  RunStepRequest as _danube_RunStepRequest,
  RunStepRequest__Output as _danube_RunStepRequest__Output,
} from '../danube/RunStepRequest';
import type {
  RunStepResponse as _danube_RunStepResponse,
  RunStepResponse__Output as _danube_RunStepResponse__Output,
} from '../danube/RunStepResponse';
import type {
  UploadArtifactRequest as _danube_UploadArtifactRequest,
  UploadArtifactRequest__Output as _danube_UploadArtifactRequest__Output,
} from '../danube/UploadArtifactRequest';
import type {
  UploadArtifactResponse as _danube_UploadArtifactResponse,
  UploadArtifactResponse__Output as _danube_UploadArtifactResponse__Output,
} from '../danube/UploadArtifactResponse';

export interface JobServiceClient extends grpc.Client {
  /**
   * Streams an artifact of the calling job, of one of its workflow parents, of a step it
   * ran, or of the job that ran it as a step: a header, then chunks.
   */
  DownloadArtifact(
    argument: _danube_DownloadArtifactRequest,
    metadata: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_danube_DownloadArtifactResponse__Output>;
  DownloadArtifact(
    argument: _danube_DownloadArtifactRequest,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_danube_DownloadArtifactResponse__Output>;
  /**
   * Streams an artifact of the calling job, of one of its workflow parents, of a step it
   * ran, or of the job that ran it as a step: a header, then chunks.
   */
  downloadArtifact(
    argument: _danube_DownloadArtifactRequest,
    metadata: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_danube_DownloadArtifactResponse__Output>;
  downloadArtifact(
    argument: _danube_DownloadArtifactRequest,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_danube_DownloadArtifactResponse__Output>;

  /**
   * Reads a secret the job's spec lists in `secrets`.
   */
  GetSecret(
    argument: _danube_GetSecretRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetSecret(
    argument: _danube_GetSecretRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetSecret(
    argument: _danube_GetSecretRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetSecret(
    argument: _danube_GetSecretRequest,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  /**
   * Reads a secret the job's spec lists in `secrets`.
   */
  getSecret(
    argument: _danube_GetSecretRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  getSecret(
    argument: _danube_GetSecretRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  getSecret(
    argument: _danube_GetSecretRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;
  getSecret(
    argument: _danube_GetSecretRequest,
    callback: grpc.requestCallback<_danube_GetSecretResponse__Output>,
  ): grpc.ClientUnaryCall;

  /**
   * Sets the job's progress, status message and (optionally) its result.
   */
  ReportStatus(
    argument: _danube_ReportStatusRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  ReportStatus(
    argument: _danube_ReportStatusRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  ReportStatus(
    argument: _danube_ReportStatusRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  ReportStatus(
    argument: _danube_ReportStatusRequest,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  /**
   * Sets the job's progress, status message and (optionally) its result.
   */
  reportStatus(
    argument: _danube_ReportStatusRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  reportStatus(
    argument: _danube_ReportStatusRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  reportStatus(
    argument: _danube_ReportStatusRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;
  reportStatus(
    argument: _danube_ReportStatusRequest,
    callback: grpc.requestCallback<_danube_ReportStatusResponse__Output>,
  ): grpc.ClientUnaryCall;

  /**
   * Runs a command as a child job of the calling job and waits for it to end.
   */
  RunStep(
    argument: _danube_RunStepRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  RunStep(
    argument: _danube_RunStepRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  RunStep(
    argument: _danube_RunStepRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  RunStep(
    argument: _danube_RunStepRequest,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  /**
   * Runs a command as a child job of the calling job and waits for it to end.
   */
  runStep(
    argument: _danube_RunStepRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  runStep(
    argument: _danube_RunStepRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  runStep(
    argument: _danube_RunStepRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;
  runStep(
    argument: _danube_RunStepRequest,
    callback: grpc.requestCallback<_danube_RunStepResponse__Output>,
  ): grpc.ClientUnaryCall;

  /**
   * Stores a file as an artifact of the calling attempt: a header, then chunks.
   */
  UploadArtifact(
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  UploadArtifact(
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  UploadArtifact(
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  UploadArtifact(
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  /**
   * Stores a file as an artifact of the calling attempt: a header, then chunks.
   */
  uploadArtifact(
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  uploadArtifact(
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  uploadArtifact(
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
  uploadArtifact(
    callback: grpc.requestCallback<_danube_UploadArtifactResponse__Output>,
  ): grpc.ClientWritableStream<_danube_UploadArtifactRequest>;
}

export interface JobServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Streams an artifact of the calling job, of one of its workflow parents, of a step it
   * ran, or of the job that ran it as a step: a header, then chunks.
   */
  DownloadArtifact: grpc.handleServerStreamingCall<
    _danube_DownloadArtifactRequest__Output,
    _danube_DownloadArtifactResponse
  >;

  /**
   * Reads a secret the job's spec lists in `secrets`.
   */
  GetSecret: grpc.handleUnaryCall<_danube_GetSecretRequest__Output, _danube_GetSecretResponse>;

  /**
   * Sets the job's progress, status message and (optionally) its result.
   */
  ReportStatus: grpc.handleUnaryCall<
    _danube_ReportStatusRequest__Output,
    _danube_ReportStatusResponse
  >;

  /**
   * Runs a command as a child job of the calling job and waits for it to end.
   */
  RunStep: grpc.handleUnaryCall<_danube_RunStepRequest__Output, _danube_RunStepResponse>;

  /**
   * Stores a file as an artifact of the calling attempt: a header, then chunks.
   */
  UploadArtifact: grpc.handleClientStreamingCall<
    _danube_UploadArtifactRequest__Output,
    _danube_UploadArtifactResponse
  >;
}

export interface JobServiceDefinition extends grpc.ServiceDefinition {
  DownloadArtifact: MethodDefinition<
    _danube_DownloadArtifactRequest,
    _danube_DownloadArtifactResponse,
    _danube_DownloadArtifactRequest__Output,
    _danube_DownloadArtifactResponse__Output
  >;
  GetSecret: MethodDefinition<
    _danube_GetSecretRequest,
    _danube_GetSecretResponse,
    _danube_GetSecretRequest__Output,
    _danube_GetSecretResponse__Output
  >;
  ReportStatus: MethodDefinition<
    _danube_ReportStatusRequest,
    _danube_ReportStatusResponse,
    _danube_ReportStatusRequest__Output,
    _danube_ReportStatusResponse__Output
  >;
  RunStep: MethodDefinition<
    _danube_RunStepRequest,
    _danube_RunStepResponse,
    _danube_RunStepRequest__Output,
    _danube_RunStepResponse__Output
  >;
  UploadArtifact: MethodDefinition<
    _danube_UploadArtifactRequest,
    _danube_UploadArtifactResponse,
    _danube_UploadArtifactRequest__Output,
    _danube_UploadArtifactResponse__Output
  >;
}

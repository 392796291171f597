import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type {
  ArtifactHeader as _danube_ArtifactHeader,
  ArtifactHeader__Output as _danube_ArtifactHeader__Output,
} from './danube/ArtifactHeader';
import type {
  DownloadArtifactRequest as _danube_DownloadArtifactRequest,
  DownloadArtifactRequest__Output as _danube_DownloadArtifactRequest__Output,
} from './danube/DownloadArtifactRequest';
import type {
  DownloadArtifactResponse as _danube_DownloadArtifactResponse,
  DownloadArtifactResponse__Output as _danube_DownloadArtifactResponse__Output,
} from './danube/DownloadArtifactResponse';
import type {
  DownloadedArtifactHeader as _danube_DownloadedArtifactHeader,
  DownloadedArtifactHeader__Output as _danube_DownloadedArtifactHeader__Output,
} from './danube/DownloadedArtifactHeader';
import type {
  GetSecretRequest as _danube_GetSecretRequest,
  GetSecretRequest__Output as _danube_GetSecretRequest__Output,
} from './danube/GetSecretRequest';
import type {
  GetSecretResponse as _danube_GetSecretResponse,
  GetSecretResponse__Output as _danube_GetSecretResponse__Output,
} from './danube/GetSecretResponse';
import type {
  JobServiceClient as _danube_JobServiceClient,
  JobServiceDefinition as _danube_JobServiceDefinition,
} from './danube/JobService';
import type {
  ReportStatusRequest as _danube_ReportStatusRequest,
  ReportStatusRequest__Output as _danube_ReportStatusRequest__Output,
} from './danube/ReportStatusRequest';
import type {
  ReportStatusResponse as _danube_ReportStatusResponse,
  ReportStatusResponse__Output as _danube_ReportStatusResponse__Output,
} from './danube/ReportStatusResponse';
import type {
  RunStepRequest as _danube_RunStepRequest,
  RunStepRequest__Output as _danube_RunStepRequest__Output,
} from './danube/RunStepRequest';
import type {
  RunStepResponse as _danube_RunStepResponse,
  RunStepResponse__Output as _danube_RunStepResponse__Output,
} from './danube/RunStepResponse';
import type {
  UploadArtifactRequest as _danube_UploadArtifactRequest,
  UploadArtifactRequest__Output as _danube_UploadArtifactRequest__Output,
} from './danube/UploadArtifactRequest';
import type {
  UploadArtifactResponse as _danube_UploadArtifactResponse,
  UploadArtifactResponse__Output as _danube_UploadArtifactResponse__Output,
} from './danube/UploadArtifactResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new (...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  danube: {
    ArtifactHeader: MessageTypeDefinition<_danube_ArtifactHeader, _danube_ArtifactHeader__Output>;
    DownloadArtifactRequest: MessageTypeDefinition<
      _danube_DownloadArtifactRequest,
      _danube_DownloadArtifactRequest__Output
    >;
    DownloadArtifactResponse: MessageTypeDefinition<
      _danube_DownloadArtifactResponse,
      _danube_DownloadArtifactResponse__Output
    >;
    DownloadedArtifactHeader: MessageTypeDefinition<
      _danube_DownloadedArtifactHeader,
      _danube_DownloadedArtifactHeader__Output
    >;
    GetSecretRequest: MessageTypeDefinition<
      _danube_GetSecretRequest,
      _danube_GetSecretRequest__Output
    >;
    GetSecretResponse: MessageTypeDefinition<
      _danube_GetSecretResponse,
      _danube_GetSecretResponse__Output
    >;
    JobService: SubtypeConstructor<typeof grpc.Client, _danube_JobServiceClient> & {
      service: _danube_JobServiceDefinition;
    };
    ReportStatusRequest: MessageTypeDefinition<
      _danube_ReportStatusRequest,
      _danube_ReportStatusRequest__Output
    >;
    ReportStatusResponse: MessageTypeDefinition<
      _danube_ReportStatusResponse,
      _danube_ReportStatusResponse__Output
    >;
    RunStepRequest: MessageTypeDefinition<_danube_RunStepRequest, _danube_RunStepRequest__Output>;
    RunStepResponse: MessageTypeDefinition<
      _danube_RunStepResponse,
      _danube_RunStepResponse__Output
    >;
    UploadArtifactRequest: MessageTypeDefinition<
      _danube_UploadArtifactRequest,
      _danube_UploadArtifactRequest__Output
    >;
    UploadArtifactResponse: MessageTypeDefinition<
      _danube_UploadArtifactResponse,
      _danube_UploadArtifactResponse__Output
    >;
  };
}

// Original file: proto/danube.proto

import type {
  DownloadedArtifactHeader as _danube_DownloadedArtifactHeader,
  DownloadedArtifactHeader__Output as _danube_DownloadedArtifactHeader__Output,
} from '../danube/DownloadedArtifactHeader';

export interface DownloadArtifactResponse {
  header?: _danube_DownloadedArtifactHeader | null;
  chunk?: Buffer | Uint8Array | string;
  payload?: 'header' | 'chunk';
}

export interface DownloadArtifactResponse__Output {
  header?: _danube_DownloadedArtifactHeader__Output | null;
  chunk?: Buffer;
  payload?: 'header' | 'chunk';
}

// Original file: proto/danube.proto

import type {
  ArtifactHeader as _danube_ArtifactHeader,
  ArtifactHeader__Output as _danube_ArtifactHeader__Output,
} from '../danube/ArtifactHeader';

export interface UploadArtifactRequest {
  header?: _danube_ArtifactHeader | null;
  chunk?: Buffer | Uint8Array | string;
  payload?: 'header' | 'chunk';
}

export interface UploadArtifactRequest__Output {
  header?: _danube_ArtifactHeader__Output | null;
  chunk?: Buffer;
  payload?: 'header' | 'chunk';
}

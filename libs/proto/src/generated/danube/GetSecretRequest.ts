// Original file: proto/danube.proto

export interface GetSecretRequest {
  jobId?: string;
  name?: string;
}

export interface GetSecretRequest__Output {
  jobId: string;
  name: string;
}

// Original file: proto/danube.proto

export interface GetSecretResponse {
  value?: string;
}

export interface GetSecretResponse__Output {
  value: string;
}

// Original file: proto/danube.proto

export interface ReportStatusResponse {}

export interface ReportStatusResponse__Output {}

/** What the API server answers on failure: a Status object, and its HTTP code. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toStatus(): KubeStatus {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

export function failureStatus(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details && { details }),
    code,
  };
}

export function successStatus(details: Record<string, unknown>): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

/** `resource` as the API spells it in messages: `pods`, `jobs.batch`. */
export function notFound(resource: string, name: string): KubeApiError {
  const [kind, group = ''] = resource.split(/\.(.*)/);
  return new KubeApiError(404, 'NotFound', `${resource} "${name}" not found`, {
    name,
    group,
    kind,
  });
}

export function alreadyExists(resource: string, name: string): KubeApiError {
  const [kind, group = ''] = resource.split(/\.(.*)/);
  return new KubeApiError(409, 'AlreadyExists', `${resource} "${name}" already exists`, {
    name,
    group,
    kind,
  });
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}

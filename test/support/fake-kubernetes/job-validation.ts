import { quantityAmount } from '../../../libs/core/src/resources';
import { badRequest, KubeApiError } from './kube-status';

// kubernetes-models is CommonJS, with the Job's JSON schema.
const { Job } = require('kubernetes-models/batch/v1/Job') as {
  Job: new (body: unknown) => { validate(): void };
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * What the API server checks before it stores a Job: its schema (kubernetes-models'
 * JSON schema, in the API's own field-path wording) and the semantic rules a wrong
 * manifest most likely breaks (names, labels, restartPolicy, env names, volume mounts).
 * Throws 400 for a body that is not a Job, 422 Invalid for an invalid Job.
 */
export function validateJob(body: any, namespace: string): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('the request body is not a JSON object');
  }
  if (body.kind !== undefined && body.kind !== 'Job') {
    throw badRequest(`the body's kind is ${JSON.stringify(body.kind)}, not "Job"`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== 'batch/v1') {
    throw badRequest(`the body's apiVersion is ${JSON.stringify(body.apiVersion)}, not "batch/v1"`);
  }
  if (body.metadata?.namespace !== undefined && body.metadata.namespace !== namespace) {
    throw badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  const problems: string[] = [];
  try {
    new Job(body).validate();
  } catch (error) {
    problems.push(...schemaProblems(error instanceof Error ? error.message : String(error)));
  }
  if (!problems.length) problems.push(...semanticProblems(body));
  if (problems.length) {
    const name = body.metadata?.name ?? body.metadata?.generateName ?? '';
    throw new KubeApiError(
      422,
      'Invalid',
      `Job.batch "${name}" is invalid: ${problems.join(', ')}`,
      {
        name,
        group: 'batch',
        kind: 'Job',
        causes: problems.map((message) => ({ message })),
      },
    );
  }
}

/** `data/spec/template/spec/containers/0 must have required property name` -> `spec.template.spec.containers[0]: ...`. */
function schemaProblems(message: string): string[] {
  return message.split(/, (?=data[/ ])/).map((problem) => {
    const match = /^data(\S*) (.*)$/.exec(problem);
    if (!match) return problem;
    const path = match[1]
      .split('/')
      .filter(Boolean)
      .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i ? `.${part}` : part))
      .join('');
    return `${path || '<root>'}: ${match[2]}`;
  });
}

function semanticProblems(job: any): string[] {
  const problems: string[] = [];
  const name: string | undefined = job.metadata?.name;
  if (!name && !job.metadata?.generateName) {
    problems.push('metadata.name: Required value: name or generateName is required');
  } else if (name && !(DNS_SUBDOMAIN.test(name) && name.length <= 63)) {
    problems.push(
      `metadata.name: Invalid value: "${name}": a Job name must be a lowercase RFC 1123 subdomain of at most 63 characters (it becomes a label value)`,
    );
  }
  problems.push(...labelProblems('metadata.labels', job.metadata?.labels));
  const template = job.spec.template;
  problems.push(...labelProblems('spec.template.metadata.labels', template.metadata?.labels));
  const spec = template.spec ?? {};
  if (spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure') {
    problems.push(
      `spec.template.spec.restartPolicy: ${spec.restartPolicy === undefined ? 'Required value' : `Unsupported value: "${spec.restartPolicy}"`}: supported values: "OnFailure", "Never"`,
    );
  }
  if (!spec.containers?.length) {
    problems.push('spec.template.spec.containers: Required value');
  }
  for (const field of ['activeDeadlineSeconds'] as const) {
    if (job.spec[field] !== undefined && job.spec[field] <= 0) {
      problems.push(`spec.${field}: Invalid value: ${job.spec[field]}: must be greater than 0`);
    }
  }
  for (const field of ['backoffLimit', 'ttlSecondsAfterFinished'] as const) {
    if (job.spec[field] !== undefined && job.spec[field] < 0) {
      problems.push(
        `spec.${field}: Invalid value: ${job.spec[field]}: must be greater than or equal to 0`,
      );
    }
  }
  const volumes = new Set((spec.volumes ?? []).map((v: any) => v.name));
  const seen = new Set<string>();
  const containers = [
    ...(spec.initContainers ?? []).map((c: any, i: number) => [`initContainers[${i}]`, c]),
    ...(spec.containers ?? []).map((c: any, i: number) => [`containers[${i}]`, c]),
  ] as [string, any][];
  for (const [where, container] of containers) {
    const path = `spec.template.spec.${where}`;
    if (!DNS_LABEL.test(container.name) || container.name.length > 63) {
      problems.push(`${path}.name: Invalid value: "${container.name}": must be a DNS-1123 label`);
    }
    if (seen.has(container.name)) {
      problems.push(`${path}.name: Duplicate value: "${container.name}"`);
    }
    seen.add(container.name);
    if (!container.image) problems.push(`${path}.image: Required value`);
    const { requests = {}, limits = {} } = container.resources ?? {};
    for (const [name, request] of Object.entries<string>(requests)) {
      const limit: string | undefined = limits[name];
      if (limit !== undefined && quantityAmount(request) > quantityAmount(limit)) {
        problems.push(
          `${path}.resources.requests: Invalid value: "${request}": must be less than or equal to ${name} limit of ${limit}`,
        );
      }
    }
    if (container.restartPolicy !== undefined) {
      if (!where.startsWith('init') || container.restartPolicy !== 'Always') {
        problems.push(
          `${path}.restartPolicy: Unsupported value: "${container.restartPolicy}": only init containers may set it, to "Always"`,
        );
      }
    }
    (container.env ?? []).forEach((variable: any, i: number) => {
      if (!ENV_NAME.test(variable.name ?? '')) {
        problems.push(
          `${path}.env[${i}].name: Invalid value: "${variable.name}": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`,
        );
      }
    });
    (container.volumeMounts ?? []).forEach((mount: any, i: number) => {
      if (!volumes.has(mount.name)) {
        problems.push(`${path}.volumeMounts[${i}].name: Not found: "${mount.name}"`);
      }
    });
  }
  return problems;
}

function labelProblems(path: string, labels: Record<string, string> | undefined): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const slash = key.lastIndexOf('/');
    const prefix = slash === -1 ? '' : key.slice(0, slash);
    const name = slash === -1 ? key : key.slice(slash + 1);
    if (
      (prefix && !(DNS_SUBDOMAIN.test(prefix) && prefix.length <= 253)) ||
      !LABEL_NAME.test(name) ||
      name.length > 63
    ) {
      problems.push(`${path}: Invalid value: "${key}": not a valid label key`);
    }
    if (value !== '' && !(LABEL_NAME.test(value) && value.length <= 63)) {
      problems.push(
        `${path}: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)`,
      );
    }
  }
  return problems;
}

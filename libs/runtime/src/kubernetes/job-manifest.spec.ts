import { JobSpecError, TASK_CLASSES, type ClaimedJob, type TaskClass } from '@danube/core';
import {
  buildJobManifest,
  COLLECTOR_CONTAINER,
  jobName,
  labelValue,
  MAIN_CONTAINER,
  podSelector,
} from './job-manifest';
import type { KubernetesRuntimeOptions } from './kubernetes-runtime.config';
import { validateJobManifest, validateRuntimeOptions } from './manifest-validation';

function options(overrides: Partial<KubernetesRuntimeOptions> = {}): KubernetesRuntimeOptions {
  return {
    namespace: 'danube-jobs',
    inCluster: false,
    collectorImage: 'danube:0.1.0',
    grpcAddress: 'danube-api.danube:9000',
    apiUrl: 'http://danube-api.danube:3000',
    defaultImage: null,
    ttlSecondsAfterFinished: 3600,
    terminationGracePeriodSeconds: 60,
    unschedulableTimeoutSeconds: 300,
    maxPendingJobs: 20,
    defaults: {},
    taskClasses: {},
    topics: {},
    servedTopics: null,
    ...overrides,
  };
}

function job(
  overrides: Partial<ClaimedJob> = {},
  spec: Partial<ClaimedJob['spec']> = {},
): ClaimedJob {
  return {
    id: '42',
    tenant: 'acme',
    topic: 'reports',
    taskClass: 'cpu_short',
    priority: 0,
    runAt: new Date(),
    attempts: 2,
    maxAttempts: 3,
    timeoutSeconds: 45,
    spec: {
      command: 'echo hi > $DANUBE_OUTPUT_DIR/a.txt',
      image: 'busybox:1.36',
      env: { GREETING: 'hi' },
      backoff: { initialSeconds: 1, factor: 2, maxSeconds: 10 },
      noRetryExitCodes: [],
      ...spec,
    },
    labels: {},
    runtimeRef: null,
    startedAt: null,
    startedBy: null,
    leaseToken: '00000000-0000-0000-0000-000000000000',
    workflowId: null,
    nodeName: null,
    ...overrides,
  };
}

const build = (j: ClaimedJob, o = options()) =>
  buildJobManifest({ job: j, attempt: j.attempts, env: { DANUBE_JOB_TOKEN: 'dnb1.t' } }, o);

const podSpec = (m: ReturnType<typeof build>) => m.spec!.template.spec!;
const main = (m: ReturnType<typeof build>) =>
  podSpec(m).containers.find((c) => c.name === MAIN_CONTAINER)!;
const env = (container: { env?: { name: string; value?: string }[] }) =>
  Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));

describe('the Job manifest of an attempt', () => {
  it.each(TASK_CLASSES.filter((c) => c !== 'gpu_slurm'))(
    'validates against the Kubernetes schemas for task class %s',
    (taskClass) => {
      const manifest = build(job({ taskClass: taskClass as TaskClass }));
      expect(() => validateJobManifest(manifest)).not.toThrow();
    },
  );

  it('validates with the job resource overrides and every pod override field', () => {
    const o = options({
      defaults: { pod: { imagePullPolicy: 'IfNotPresent', nodeSelector: { pool: 'batch' } } },
      topics: {
        reports: {
          grpcAddress: '10.0.0.7:9000',
          pod: {
            imagePullSecrets: [{ name: 'regcred' }],
            serviceAccountName: 'reporter',
            nodeSelector: { zone: 'a' },
            tolerations: [
              { key: 'dedicated', operator: 'Equal', value: 'reports', effect: 'NoSchedule' },
            ],
            securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
            hostNetwork: false,
            volumes: [
              { name: 'cache', emptyDir: { sizeLimit: '1Gi' } },
              { name: 'code', hostPath: { path: '/srv/danube', type: 'Directory' } },
            ],
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            collector: {
              volumeMounts: [{ name: 'code', mountPath: '/app', readOnly: true }],
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
            },
          },
        },
      },
    });
    const manifest = build(
      job(
        {},
        {
          resources: {
            requests: { cpu: '500m' },
            limits: { memory: '2Gi', 'ephemeral-storage': '5Gi' },
          },
        },
      ),
      o,
    );
    expect(() => validateJobManifest(manifest)).not.toThrow();
    const spec = podSpec(manifest);
    expect(main(manifest).resources).toEqual({
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '5Gi' },
    });
    expect(main(manifest).imagePullPolicy).toBe('IfNotPresent');
    expect(spec.nodeSelector).toEqual({ pool: 'batch', zone: 'a' });
    expect(spec.serviceAccountName).toBe('reporter');
    expect(spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(spec.hostNetwork).toBe(false);
    expect(spec.volumes!.map((v) => v.name)).toEqual(['danube', 'cache', 'code']);
    expect(main(manifest).volumeMounts!.map((v) => v.mountPath)).toEqual(['/danube', '/cache']);
    expect(env(main(manifest)).DANUBE_GRPC_ADDRESS).toBe('10.0.0.7:9000');
    const collector = spec.initContainers!.find((c) => c.name === COLLECTOR_CONTAINER)!;
    expect(env(collector).DANUBE_GRPC_ADDRESS).toBe('10.0.0.7:9000');
    // The collector's own override: its code from a hostPath, its resources.
    expect(collector.volumeMounts!.map((v) => v.mountPath)).toEqual(['/danube', '/app']);
    expect(collector.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' } });
  });

  it("pulls with the tenant image rule's secret before the configured ones", () => {
    const o = options({ defaults: { pod: { imagePullSecrets: [{ name: 'regcred' }] } } });
    const manifest = build(
      job({}, { image: 'ghcr.io/acme/train:1', imagePullSecret: 'acme-ghcr' }),
      o,
    );
    expect(() => validateJobManifest(manifest)).not.toThrow();
    expect(podSpec(manifest).imagePullSecrets).toEqual([
      { name: 'acme-ghcr' },
      { name: 'regcred' },
    ]);
    expect(podSpec(build(job(), options())).imagePullSecrets).toBeUndefined();
  });

  it("never puts a request above its limit: the job's own value wins over the class's", () => {
    // cpu_short asks for 250m CPU and 256Mi; its limits are 1 CPU and 512Mi.
    const lowered = build(job({}, { resources: { limits: { memory: '16Mi', cpu: '100m' } } }));
    expect(main(lowered).resources).toEqual({
      requests: { cpu: '100m', memory: '16Mi' },
      limits: { cpu: '100m', memory: '16Mi' },
    });
    const raised = build(job({}, { resources: { requests: { memory: '3Gi', cpu: '1500m' } } }));
    expect(main(raised).resources).toEqual({
      requests: { cpu: '1500m', memory: '3Gi' },
      limits: { cpu: '1500m', memory: '3Gi' },
    });
    expect(() => validateJobManifest(lowered)).not.toThrow();
  });

  it('is invalid when a quantity is not one (the validation can fail)', () => {
    const manifest = build(job({}, { resources: { limits: { memory: 'lots' } } }));
    expect(() => validateJobManifest(manifest)).toThrow(/memory/);
  });

  it('names and labels the Job by job and attempt, with Danube owning retries and the deadline', () => {
    const manifest = build(job());
    expect(manifest.metadata!.name).toBe('danube-42-2');
    expect(jobName('42', 2)).toBe('danube-42-2');
    expect(manifest.metadata!.namespace).toBe('danube-jobs');
    const labels = {
      'app.kubernetes.io/managed-by': 'danube',
      'danube.io/job-id': '42',
      'danube.io/attempt': '2',
      'danube.io/topic': 'reports',
      'danube.io/tenant': 'acme',
    };
    expect(manifest.metadata!.labels).toEqual(labels);
    expect(manifest.spec!.template.metadata!.labels).toEqual(labels);
    expect(manifest.spec!.backoffLimit).toBe(0);
    // Set once the job's container starts, so that waiting for a node costs no run time.
    expect(manifest.spec!.activeDeadlineSeconds).toBeUndefined();
    expect(manifest.spec!.ttlSecondsAfterFinished).toBe(3600);
    expect(podSpec(manifest).restartPolicy).toBe('Never');
  });

  it('runs the job container beside the output-collector as a native sidecar sharing /danube', () => {
    const manifest = build(job());
    const spec = podSpec(manifest);
    expect(spec.volumes![0]).toEqual({ name: 'danube', emptyDir: {} });
    const collector = spec.initContainers![0]!;
    expect(collector.name).toBe(COLLECTOR_CONTAINER);
    expect(collector.restartPolicy).toBe('Always');
    expect(collector.image).toBe('danube:0.1.0');
    expect(collector.volumeMounts).toEqual([{ name: 'danube', mountPath: '/danube' }]);
    expect(env(collector)).toMatchObject({
      DANUBE_JOB_ID: '42',
      DANUBE_ATTEMPT: '2',
      DANUBE_JOB_TOKEN: 'dnb1.t',
      DANUBE_OUTPUT_DIR: '/danube/outputs',
      DANUBE_RESULT_FILE: '/danube/result.json',
    });
    const container = main(manifest);
    expect(container.image).toBe('busybox:1.36');
    expect(container.command).toEqual(['/bin/sh', '-c', 'echo hi > $DANUBE_OUTPUT_DIR/a.txt']);
    expect(env(container)).toMatchObject({
      GREETING: 'hi',
      DANUBE_JOB_TOKEN: 'dnb1.t',
      DANUBE_OUTPUT_DIR: '/danube/outputs',
      DANUBE_RESULT_FILE: '/danube/result.json',
    });
  });

  it('gives a gpu attempt exactly one GPU, whatever the class defaults', () => {
    const manifest = build(job({ taskClass: 'gpu' }));
    expect(main(manifest).resources!.limits!['nvidia.com/gpu']).toBe('1');
    expect(main(manifest).resources!.requests!['nvidia.com/gpu']).toBe('1');
    expect(main(build(job())).resources!.limits!['nvidia.com/gpu']).toBeUndefined();
  });

  it('applies the gpu class node selector and tolerations from the configuration', () => {
    const manifest = build(
      job({ taskClass: 'gpu' }),
      options({
        taskClasses: {
          gpu: {
            pod: {
              nodeSelector: { 'nvidia.com/gpu.present': 'true' },
              tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            },
          },
        },
      }),
    );
    expect(podSpec(manifest).nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(podSpec(manifest).tolerations).toHaveLength(1);
    // A configured class replaces the built-in default resources; the GPU is still there.
    expect(main(manifest).resources).toEqual({
      requests: { 'nvidia.com/gpu': '1' },
      limits: { 'nvidia.com/gpu': '1' },
    });
    expect(() => validateJobManifest(manifest)).not.toThrow();
  });

  it('refuses gpu_slurm unless configured, and a job without an image unless there is a default', () => {
    expect(() => build(job({ taskClass: 'gpu_slurm' }))).toThrow(JobSpecError);
    expect(() => build(job({ taskClass: 'gpu_slurm' }))).toThrow(/Slurm runtime/);
    expect(() =>
      build(job({ taskClass: 'gpu_slurm' }), options({ taskClasses: { gpu_slurm: {} } })),
    ).not.toThrow();
    expect(() => build(job({}, { image: undefined }))).toThrow(/names no image/);
    expect(
      main(build(job({}, { image: undefined }), options({ defaultImage: 'alpine:3' }))).image,
    ).toBe('alpine:3');
  });

  it('turns any topic or tenant into a valid label value, distinct per input', () => {
    expect(labelValue('reports')).toBe('reports');
    const odd = labelValue('team:etl:nightly');
    expect(odd).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
    expect(odd).not.toBe(labelValue('team:etl_nightly'));
    expect(labelValue('x'.repeat(100)).length).toBeLessThanOrEqual(63);
    expect(podSelector(null)).toBe('app.kubernetes.io/managed-by=danube');
    expect(podSelector(['a', 'b'])).toBe(
      'app.kubernetes.io/managed-by=danube,danube.io/topic in (a,b)',
    );
  });

  it('checks the configuration at start by validating the Job of every class and topic', () => {
    expect(() => validateRuntimeOptions(options())).not.toThrow();
    expect(() =>
      validateRuntimeOptions(
        options({ topics: { ml: { pod: { tolerations: [{ operator: 'Sometimes' } as never] } } } }),
      ),
    ).toThrow(/on topic ml would be invalid: .*operator/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRuntimeDocument } from './kubernetes-runtime.config';

describe('the Kubernetes runtime configuration document', () => {
  it('reads YAML from a file and JSON inline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'danube-k8s-config-'));
    const file = join(dir, 'runtime.yaml');
    writeFileSync(
      file,
      [
        'defaults:',
        '  pod: { imagePullPolicy: IfNotPresent }',
        'taskClasses:',
        '  gpu:',
        '    resources: { requests: { cpu: "2" } }',
        '    pod: { nodeSelector: { gpu: "true" } }',
        'topics:',
        '  ml: { grpcAddress: "api.danube:9000" }',
      ].join('\n'),
    );
    expect(readRuntimeDocument(file, undefined)).toEqual({
      defaults: { pod: { imagePullPolicy: 'IfNotPresent' } },
      taskClasses: {
        gpu: { resources: { requests: { cpu: '2' } }, pod: { nodeSelector: { gpu: 'true' } } },
      },
      topics: { ml: { grpcAddress: 'api.danube:9000' } },
    });
    expect(readRuntimeDocument(undefined, '{"defaults":{"image":"alpine:3"}}')).toEqual({
      defaults: { image: 'alpine:3' },
    });
    expect(readRuntimeDocument(undefined, undefined)).toEqual({});
  });

  it.each([
    ['{"taskClasses":{"tiny":{}}}', /taskClasses.tiny is not a task class/],
    [
      '{"taskClasses":{"gpu":{"resources":{"limits":{"nvidia.com/gpu":"2"}}}}}',
      /exactly one GPU per attempt/,
    ],
    [
      '{"taskClasses":{"cpu_short":{"resources":{"limits":{"cpu":"lots"}}}}}',
      /cpu_short.resources.limits.cpu must be a quantity/,
    ],
    [
      '{"topics":{"ml":{"pod":{"containers":[]}}}}',
      /topics.ml.pod.containers cannot be overridden/,
    ],
    [
      '{"defaults":{"ttlSecondsAfterFinished":-1}}',
      /defaults.ttlSecondsAfterFinished must be a whole number/,
    ],
    ['{"topics":{"ml":{"grpcAddress":"http://x"}}}', /topics.ml.grpcAddress must be host:port/],
    [
      '{"topics":{"ml":{"pod":{"collector":{"image":"x"}}}}}',
      /topics.ml.pod.collector.image is not a collector setting/,
    ],
    [
      '{"defaults":{"maxPendingJobs":0}}',
      /defaults.maxPendingJobs must be a whole number, at least 1/,
    ],
    ['{"extra":1}', /extra is not a known section/],
    ['{not json', /not valid YAML\/JSON/],
  ])('refuses %s, naming the field', (json, message) => {
    expect(() => readRuntimeDocument(undefined, json)).toThrow(message);
  });

  it('refuses a file that cannot be read', () => {
    expect(() => readRuntimeDocument('/nonexistent/runtime.yaml', undefined)).toThrow(
      /K8S_RUNTIME_CONFIG: cannot read \/nonexistent\/runtime.yaml/,
    );
  });
});

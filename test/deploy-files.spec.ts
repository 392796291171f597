import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { loadExecutorOptions } from '@danube/executor';
import { loadApiOptions } from '../apps/api/src/api.config';

const root = join(__dirname, '..');

/**
 * docker-compose.yml against the Compose Specification's JSON schema (the copy dclint
 * ships), which is what `docker compose config` checks a file against.
 */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  const schemaPath = join(
    dirname(require.resolve('dclint/package.json')),
    'schemas',
    'compose.schema.json',
  );
  const { $schema: _ignored, ...schema } = JSON.parse(readFileSync(schemaPath, 'utf8'));

  it('is valid against the Compose Specification', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs Postgres, the API and two executors on different topics', () => {
    const services = compose.services as Record<
      string,
      { environment?: Record<string, string>; command?: string[] }
    >;
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'executor-batch',
      'executor-default',
      'postgres',
    ]);
    const topics = ['executor-batch', 'executor-default'].map(
      (name) => services[name]!.environment!.EXECUTOR_TOPICS,
    );
    expect(topics[0]).not.toEqual(topics[1]);
    expect(services['executor-default']!.command).toEqual([
      'node',
      'dist/apps/executor/src/main.js',
    ]);
    expect(compose.version).toBeUndefined();
  });
});

describe('deploy/k8s', () => {
  const dir = join(root, 'deploy', 'k8s');
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const documents = files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
      .map((document) => {
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
        return { file, object: document.toJS() as any };
      })
      .filter(({ object }) => object != null),
  );
  const objects = documents.filter(({ file }) => file !== 'kustomization.yaml');
  const manifests = objects.filter(({ file }) => file !== 'secret.example.yaml');
  const find = (kind: string, name: string) => {
    const found = manifests.find((m) => m.object.kind === kind && m.object.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
    return found.object;
  };
  const deployments = manifests.map((m) => m.object).filter((o) => o.kind === 'Deployment');
  const executors = deployments.filter(
    (d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'executor',
  );
  const api = find('Deployment', 'danube-api');
  const role = find('Role', 'danube-executor');
  const runtimeConfig = find('ConfigMap', 'danube-runtime');
  const example = objects.find((o) => o.file === 'secret.example.yaml')!.object;
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

  /** The kubernetes-models class for an apiVersion and kind, e.g. apps/v1 Deployment. */
  function modelFor(apiVersion: string, kind: string) {
    if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) || !/^[A-Z]\w*$/.test(kind))
      throw new Error(`not a Kubernetes apiVersion/kind: ${apiVersion} ${kind}`);
    let module: Record<string, any>;
    try {
      module = require(`kubernetes-models/${apiVersion}/${kind}`);
    } catch {
      throw new Error(`kubernetes-models has no schema for ${apiVersion} ${kind}`);
    }
    return module[kind] as new (data: unknown) => { validate(): void };
  }

  /** Working values for the Secret's keys. */
  const secrets: Record<string, string> = {
    DATABASE_URL: 'postgres://danube:danube@postgres:5432/danube',
    DANUBE_SECRET_KEY: `k1:${randomBytes(32).toString('base64')}`,
  };

  /** A container's env as the process would see it, Secret references filled from `secrets`. */
  function envOf(container: any): NodeJS.ProcessEnv {
    return Object.fromEntries(
      (container.env as any[]).map((e) => [
        e.name,
        e.valueFrom ? secrets[e.valueFrom.secretKeyRef.key] : e.value,
      ]),
    );
  }
  const containersOf = (d: any): any[] => [
    ...(d.spec.template.spec.initContainers ?? []),
    ...d.spec.template.spec.containers,
  ];

  it.each(objects.map((o) => [`${o.file}: ${o.object.kind} ${o.object.metadata?.name}`, o.object]))(
    '%s is valid against the Kubernetes schemas',
    (_name, object) => {
      const Model = modelFor(object.apiVersion, object.kind);
      expect(() => new Model(object).validate()).not.toThrow();
      if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind))
        expect(['danube', 'danube-jobs']).toContain(object.metadata.namespace);
    },
  );

  it('kustomization.yaml lists every manifest, and not the example Secret', () => {
    const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml'),
    );
  });

  it("the executors' Role grants exactly the calls the Kubernetes runtime makes, in its namespace", () => {
    const grants = (role.rules as any[]).flatMap((rule) =>
      rule.apiGroups.flatMap((group: string) =>
        rule.resources.flatMap((resource: string) =>
          rule.verbs.map((verb: string) => `${group || 'core'}/${resource}:${verb}`),
        ),
      ),
    );
    expect(grants.sort()).toEqual(
      [
        'batch/jobs:create',
        'batch/jobs:get',
        'batch/jobs:patch',
        'batch/jobs:delete',
        'core/pods:list',
        'core/pods:watch',
        'core/pods/log:get',
      ].sort(),
    );
    const binding = find('RoleBinding', 'danube-executor');
    expect(binding.metadata.namespace).toBe(role.metadata.namespace);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'danube-executor',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'danube-executor', namespace: 'danube' },
    ]);
    for (const executor of executors) {
      expect(executor.spec.template.spec.serviceAccountName).toBe('danube-executor');
      expect(envOf(executor.spec.template.spec.containers[0]).K8S_NAMESPACE).toBe(
        role.metadata.namespace,
      );
    }
  });

  it('grants the executors, cluster-wide, only the list of nodes (to tell a pod that waits for room from one that can never run)', () => {
    const nodes = find('ClusterRole', 'danube-executor-nodes');
    expect(nodes.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }]);
    const binding = find('ClusterRoleBinding', 'danube-executor-nodes');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'danube-executor-nodes',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'danube-executor', namespace: 'danube' },
    ]);
  });

  it('runs one executor Deployment per group of topics, each on the kubernetes runtime', () => {
    expect(executors.length).toBeGreaterThanOrEqual(2);
    const served: string[] = [];
    for (const executor of executors) {
      const env = envOf(executor.spec.template.spec.containers[0]);
      expect(env.DANUBE_RUNTIME).toBe('kubernetes');
      expect(env.K8S_IN_CLUSTER).toBe('true');
      expect(env.EXECUTOR_TOPICS).not.toBe('ALL');
      served.push(...env.EXECUTOR_TOPICS!.split(',').map((t) => t.trim()));
    }
    expect(new Set(served).size).toBe(served.length);
  });

  it("each executor's environment and mounted runtime.yaml pass the executor's own checks", () => {
    const work = mkdtempSync(join(tmpdir(), 'danube-k8s-'));
    try {
      for (const executor of executors) {
        const container = executor.spec.template.spec.containers[0];
        const env = envOf(container);
        // The ConfigMap's key, where the container's volume mount puts it.
        const mount = (container.volumeMounts as any[]).find((m) => {
          const volume = executor.spec.template.spec.volumes.find((v: any) => v.name === m.name);
          return volume?.configMap?.name === 'danube-runtime';
        });
        expect(env.K8S_RUNTIME_CONFIG).toBe(`${mount.mountPath}/runtime.yaml`);
        const path = join(work, 'runtime.yaml');
        writeFileSync(path, runtimeConfig.data['runtime.yaml']);
        const options = loadExecutorOptions({ ...env, K8S_RUNTIME_CONFIG: path });
        expect(options.runtime).toBe('kubernetes');
        expect(options.httpHost).toBe('0.0.0.0');
        expect(options.kubernetes!.collectorImage).toBe(container.image);
        const port = (probe: any) =>
          container.ports.find((p: any) => p.name === probe.httpGet.port).containerPort;
        expect(port(container.readinessProbe)).toBe(options.httpPort);
        expect(port(container.livenessProbe)).toBe(options.httpPort);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("the ConfigMap's runtime.yaml has the cpu_short, cpu_long and gpu task classes", () => {
    const document = parse(runtimeConfig.data['runtime.yaml']);
    expect(Object.keys(document.taskClasses).sort()).toEqual(['cpu_long', 'cpu_short', 'gpu']);
    expect(document.taskClasses.gpu.pod.nodeSelector).toBeDefined();
  });

  it('executors point their jobs at the danube-api Service, which exposes the API ports', () => {
    const service = find('Service', 'danube-api');
    const host = `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
    const apiContainer = api.spec.template.spec.containers[0];
    const apiOptions = loadApiOptions(envOf(apiContainer));
    const servicePort = (name: string) => {
      const port = service.spec.ports.find((p: any) => p.name === name);
      const target = apiContainer.ports.find((p: any) => p.name === port.targetPort);
      return { port: port.port, containerPort: target.containerPort };
    };
    expect(servicePort('http').containerPort).toBe(apiOptions.port);
    expect(servicePort('grpc').containerPort).toBe(apiOptions.grpcPort);
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
    for (const executor of executors) {
      const env = envOf(executor.spec.template.spec.containers[0]);
      expect(env.K8S_GRPC_ADDRESS).toBe(`${host}:${servicePort('grpc').port}`);
      expect(env.DANUBE_API_URL).toBe(`http://${host}:${servicePort('http').port}`);
    }
    expect(api.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(api.spec.template.spec.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
  });

  it('every container runs the pinned image as non-root, with resources', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBe(1000);
      for (const container of containersOf(deployment)) {
        expect(container.image).toBe(`danube:${version}`);
        expect(container.imagePullPolicy).toBe('IfNotPresent');
        expect(container.resources.requests).toEqual(
          expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
        );
        expect(container.resources.limits.memory).toEqual(expect.any(String));
        expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
      }
    }
  });

  it('the example Secret holds every key the manifests read, as placeholders the processes refuse', () => {
    const keys = deployments.flatMap((d) =>
      containersOf(d).flatMap((c) =>
        (c.env as any[])
          .filter((e) => e.valueFrom)
          .map((e) => `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`),
      ),
    );
    expect([...new Set(keys)].sort()).toEqual(
      Object.keys(example.stringData)
        .map((key) => `${example.metadata.name}/${key}`)
        .sort(),
    );
    const { DATABASE_URL, DANUBE_SECRET_KEY } = example.stringData;
    expect(() => loadApiOptions({ ...secrets, DATABASE_URL })).toThrow(/DATABASE_URL/);
    expect(() => loadApiOptions({ ...secrets, DANUBE_SECRET_KEY })).toThrow(/DANUBE_SECRET_KEY/);
    expect(() => loadApiOptions(secrets)).not.toThrow();
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, http, jobEnded, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The kubernetes runtime against a real cluster: k3s in a container (@testcontainers/k3s),
 * the Danube image built from this checkout and imported into it, the API and executor
 * on this machine. Pods share the k3s node's network (the hostNetwork pod override) and
 * reach the API's JobService through Testcontainers' host port tunnel.
 *
 * It needs a Docker engine; where none answers the suite is reported as skipped, with
 * the reason in its name.
 */
const ROOT = join(__dirname, '..');
const K3S_IMAGE = 'rancher/k3s:v1.32.5-k3s1';
const IMAGE = 'danube:k3s-e2e';

function dockerAnswers(): string | null {
  if (process.env.DOCKER_HOST) return null;
  if (existsSync('/var/run/docker.sock')) return null;
  return 'no Docker engine answers (no DOCKER_HOST, no /var/run/docker.sock)';
}

const unavailable = dockerAnswers();
const suite = unavailable ? describe.skip : describe;

suite(`the kubernetes runtime on k3s${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  jest.setTimeout(600_000);
  let db: TestDatabase;
  let api: TestApi;
  let executor: ExecutorProcess;
  let stopCluster: () => Promise<unknown>;

  beforeAll(async () => {
    const { GenericContainer, TestContainers } = await import('testcontainers');
    const { K3sContainer } = await import('@testcontainers/k3s');
    db = await createTestDatabase();
    api = await startApi(db.url);
    const grpcPort = Number(api.grpcAddress.split(':')[1]);
    await TestContainers.exposeHostPorts(grpcPort);

    await GenericContainer.fromDockerfile(ROOT).build(IMAGE, { deleteOnExit: false });
    const cluster = await new K3sContainer(K3S_IMAGE).start();
    stopCluster = () => cluster.stop();
    const archive = join(mkdtempSync(join(tmpdir(), 'danube-k3s-')), 'danube.tar');
    execFileSync('docker', ['save', '-o', archive, IMAGE]);
    await cluster.copyFilesToContainer([{ source: archive, target: '/tmp/danube.tar' }]);
    const imported = await cluster.exec(['ctr', 'images', 'import', '/tmp/danube.tar']);
    if (imported.exitCode !== 0) throw new Error(`ctr images import failed: ${imported.output}`);

    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'danube-k3s-')), 'kubeconfig');
    writeFileSync(kubeconfig, cluster.getKubeConfig());
    executor = await startExecutor(db.url, 'k3s-executor', {
      ...api.executorEnv,
      DANUBE_RUNTIME: 'kubernetes',
      KUBECONFIG: kubeconfig,
      K8S_NAMESPACE: 'default',
      EXECUTOR_TOPICS: 'k3s',
      OUTPUT_COLLECTOR_IMAGE: IMAGE,
      K8S_GRPC_ADDRESS: `host.testcontainers.internal:${grpcPort}`,
      K8S_RUNTIME_CONFIG_JSON: JSON.stringify({
        defaults: {
          image: 'busybox:1.36',
          unschedulableTimeoutSeconds: 60,
          pod: { imagePullPolicy: 'IfNotPresent', hostNetwork: true },
        },
      }),
    });
  });

  afterAll(async () => {
    await executor?.kill();
    await stopCluster?.();
    await api?.close();
    await db?.drop();
  });

  async function run(job: Record<string, unknown>) {
    const response = await http('POST', `${api.url}/v1/jobs`, { topic: 'k3s', ...job });
    expect(response.status).toBe(201);
    return jobEnded(api.url, response.body.id, 300_000);
  }

  it('runs a job to success, and its outputs arrive as artifacts', async () => {
    const job = await run({
      command:
        'echo hi; echo report > $DANUBE_OUTPUT_DIR/report.txt; echo \'{"ok":true}\' > $DANUBE_RESULT_FILE',
    });
    expect(job).toMatchObject({ status: 'succeeded', result: { ok: true } });
    const artifacts = (await http('GET', `${api.url}/v1/jobs/${job.id}/artifacts`)).body.items;
    expect(artifacts.map((a: { path: string }) => a.path)).toEqual(['report.txt']);
  });

  it('fails a job that exits 3 with its exit code', async () => {
    const job = await run({ command: 'exit 3', maxAttempts: 1 });
    expect(job).toMatchObject({ status: 'failed', error: { category: 'transient', exitCode: 3 } });
  });

  it('fails an image that does not exist as a permanent image error', async () => {
    const job = await run({ command: 'true', image: 'missing.invalid/nope:1', maxAttempts: 3 });
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { category: 'permanent' } });
    expect(job.error.message).toContain('cannot be pulled');
  });
});

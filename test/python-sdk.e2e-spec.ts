/**
 * The Python SDK's unit tests (sdks/python/tests, unittest), each reported here as a test
 * of its own so that `npm test` runs and counts them; and a check that the committed gRPC
 * stubs are what proto/danube.proto generates today.
 *
 * They run on Debian's /usr/bin/python3 with python3-grpcio and python3-protobuf
 * (DANUBE_TEST_PYTHON names another interpreter); .ci/run installs those packages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PYTHON = process.env.DANUBE_TEST_PYTHON ?? '/usr/bin/python3';
const SDK = join(__dirname, '..', 'sdks', 'python');
const RUNNER = join(SDK, 'tests', 'run_tests.py');
const MISSING =
  'install python3-grpcio and python3-protobuf (apt-get install python3-grpcio python3-protobuf), as .ci/run does';

interface Outcome {
  id: string;
  status: 'passed' | 'failed' | 'skipped';
  message: string;
}

function python(args: string[], timeoutMs: number): string {
  return execFileSync(PYTHON, args, {
    cwd: SDK,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

// The test ids, read when this file is collected so that each becomes a jest test. A
// module that cannot be imported (grpc missing, say) shows up as a failing test whose
// message says so.
let listed: string[] = [];
let listError: string | null = null;
try {
  listed = JSON.parse(python([RUNNER, '--list'], 60_000)) as string[];
} catch (error) {
  const { stderr, message } = error as { stderr?: Buffer; message: string };
  listError = `${PYTHON} could not list the Python SDK's tests: ${stderr?.toString() || message}`;
}

describe('Python SDK unit tests', () => {
  let outcomes: Map<string, Outcome> | undefined;
  let runError: string | undefined;

  beforeAll(() => {
    if (listError) return;
    let stdout: string;
    try {
      stdout = python([RUNNER], 240_000);
    } catch (error) {
      // Exit status 1 means some test failed: the JSON on stdout still says which.
      const failed = error as { stdout?: Buffer; stderr?: Buffer; message: string };
      stdout = failed.stdout?.toString() ?? '';
      if (!stdout.trim().startsWith('[')) {
        runError = `the Python tests did not run: ${failed.stderr?.toString() || failed.message}`;
        return;
      }
    }
    outcomes = new Map((JSON.parse(stdout) as Outcome[]).map((o) => [o.id, o]));
  }, 300_000);

  if (listError) {
    it('can be listed', () => {
      throw new Error(`${listError}\n${MISSING}`);
    });
    return;
  }

  it.each(listed)('%s', (id) => {
    if (runError) throw new Error(runError);
    const outcome = outcomes?.get(id);
    if (!outcome) throw new Error(`${id} did not report an outcome`);
    if (outcome.status === 'failed') {
      throw new Error(
        id.includes('_FailedTest') ? `${outcome.message}\n${MISSING}` : outcome.message,
      );
    }
  });

  it('are more than a handful (the runner found the test modules)', () => {
    expect(listed.filter((id) => !id.includes('_FailedTest')).length).toBeGreaterThanOrEqual(20);
  });
});

it('the committed gRPC stubs are what proto/danube.proto generates', () => {
  const out = mkdtempSync(join(tmpdir(), 'danube-python-stubs-'));
  try {
    python([join(SDK, 'tools', 'generate_stubs.py'), '--out', out], 60_000);
    const committed = join(SDK, 'danube', '_proto');
    const generated = join(out, 'danube', '_proto');
    const files = readdirSync(generated).sort();
    expect(files).toEqual(['danube_pb2.py', 'danube_pb2.pyi', 'danube_pb2_grpc.py']);
    for (const file of files) {
      const same =
        readFileSync(join(generated, file), 'utf8') === readFileSync(join(committed, file), 'utf8');
      if (!same) {
        throw new Error(
          `sdks/python/danube/_proto/${file} is stale: run /usr/bin/python3 sdks/python/tools/generate_stubs.py and commit the result`,
        );
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ArtifactsRepository } from './artifacts.repository';
import { ArtifactsService } from './artifacts.service';
import { FilesystemArtifactStore } from './filesystem-artifact-store';

let db: TestDatabase;
let dir: string;
let artifacts: ArtifactsService;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  dir = mkdtempSync(join(tmpdir(), 'danube-artifacts-'));
  artifacts = new ArtifactsService(
    new ArtifactsRepository(db.pool),
    new FilesystemArtifactStore(dir),
    { maxBytes: 1024 },
  );
  // Artifacts are read through their job's tenant: jobs 1 and 2 belong to 'default'.
  await db.pool.query(`
    INSERT INTO danube.jobs (id, tenant, topic, task_class, max_attempts, timeout_seconds, spec)
    OVERRIDING SYSTEM VALUE
    VALUES (1, 'default', 't', 'cpu_short', 1, 60, '{}'), (2, 'default', 't', 'cpu_short', 1, 60, '{}')`);
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under the store's folder, partial uploads included. */
function filesOnDisk(): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((name) => {
      const p = join(d, name);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return walk(dir);
}

function chunks(...parts: Buffer[]): Readable {
  return Readable.from(parts);
}

const header = (over: Partial<Parameters<ArtifactsService['upload']>[0]> = {}) => ({
  jobId: '1',
  attempt: 1,
  path: 'out/data.bin',
  contentType: 'application/octet-stream',
  size: 1000,
  ...over,
});

it('stores an upload, lists it under its job and reads it back byte for byte', async () => {
  const bytes = randomBytes(1000);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const stored = await artifacts.upload(
    header({ sha256 }),
    chunks(bytes.subarray(0, 300), bytes.subarray(300)),
  );
  expect(stored).toMatchObject({
    jobId: '1',
    attempt: 1,
    path: 'out/data.bin',
    size: 1000,
    sha256,
  });
  expect((await artifacts.list('default', '1')).map((a) => a.id)).toEqual([stored.id]);
  // Another tenant sees neither the list nor the file.
  expect(await artifacts.list('other', '1')).toEqual([]);
  await expect(artifacts.open('other', stored.id)).rejects.toMatchObject({ code: 'not_found' });
  const { artifact, content } = await artifacts.open('default', stored.id);
  expect(artifact.sha256).toBe(sha256);
  expect((await buffer(content)).equals(bytes)).toBe(true);
});

it('replaces the file when the same attempt uploads the same path again', async () => {
  const first = await artifacts.upload(
    header({ path: 'again.txt', size: 3 }),
    chunks(Buffer.from('one')),
  );
  const second = await artifacts.upload(
    header({ path: 'again.txt', size: 3 }),
    chunks(Buffer.from('two')),
  );
  expect(second.id).toBe(first.id);
  expect((await buffer((await artifacts.open('default', first.id)).content)).toString()).toBe(
    'two',
  );
  expect(filesOnDisk().filter((f) => !f.includes('.partial'))).toHaveLength(2);
});

describe('refused uploads leave nothing behind', () => {
  let before: string[];
  beforeEach(() => {
    before = filesOnDisk();
  });
  afterEach(async () => {
    expect(filesOnDisk()).toEqual(before);
    expect((await artifacts.list('default', '2')).length).toBe(0);
  });

  it.each([
    ['../escape.txt', /climbs out with "\.\."/],
    ['a/../../b', /climbs out/],
    ['/etc/passwd', /is absolute/],
    ['a//b', /empty or "\." segment/],
    ['', /is empty/],
  ])('path %j', async (path, message) => {
    await expect(
      artifacts.upload(header({ jobId: '2', path, size: 1 }), chunks(Buffer.from('x'))),
    ).rejects.toThrow(message);
  });

  it('a declared size over ARTIFACT_MAX_BYTES, before reading a byte', async () => {
    const content = chunks(Buffer.alloc(10));
    await expect(
      artifacts.upload(header({ jobId: '2', size: 5000 }), content),
    ).rejects.toMatchObject({
      code: 'payload_too_large',
      message: expect.stringMatching(/size 5000 is over the artifact limit of 1024 bytes/),
    });
  });

  it('more bytes than declared', async () => {
    await expect(
      artifacts.upload(header({ jobId: '2', size: 10 }), chunks(Buffer.alloc(8), Buffer.alloc(8))),
    ).rejects.toThrow(/sent more than the 10 bytes/);
  });

  it('fewer bytes than declared', async () => {
    await expect(
      artifacts.upload(header({ jobId: '2', size: 10 }), chunks(Buffer.alloc(4))),
    ).rejects.toThrow(/ended after 4 of the 10 bytes/);
  });

  it('content that does not hash to the declared sha256', async () => {
    await expect(
      artifacts.upload(
        header({ jobId: '2', size: 3, sha256: 'a'.repeat(64) }),
        chunks(Buffer.from('abc')),
      ),
    ).rejects.toThrow(/sha256 is ba7816bf/);
  });

  it('a source that fails at once, before the file is even open', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(artifacts.upload(header({ jobId: '2', size: 500 }), failing)).rejects.toThrow(
      /client went away/,
    );
  });

  it('a source that fails midway', async () => {
    async function* failing() {
      yield Buffer.alloc(100);
      throw new Error('client went away');
    }
    await expect(
      artifacts.upload(header({ jobId: '2', size: 500 }), Readable.from(failing())),
    ).rejects.toThrow(/client went away/);
  });
});

it('says which artifact does not exist', async () => {
  await expect(artifacts.open('default', '999999')).rejects.toMatchObject({
    code: 'not_found',
    message: 'artifact 999999 does not exist',
  });
});

describe('what a running job may read through the JobService', () => {
  // Job 20 is the caller: 21 is its workflow parent, 22 a step it ran, 23 the job that ran
  // it as a step; 24 is unrelated, 25 is another tenant's.
  beforeAll(async () => {
    await db.pool.query(`
      INSERT INTO danube.jobs (id, tenant, topic, task_class, max_attempts, timeout_seconds, spec, parent_job_id)
      OVERRIDING SYSTEM VALUE
      VALUES (23, 'default', 't', 'cpu_short', 1, 60, '{}', NULL),
             (20, 'default', 't', 'cpu_short', 1, 60, '{}', 23),
             (21, 'default', 't', 'cpu_short', 1, 60, '{}', NULL),
             (22, 'default', 't', 'cpu_short', 1, 60, '{}', 20),
             (24, 'default', 't', 'cpu_short', 1, 60, '{}', NULL),
             (25, 'default', 't', 'cpu_short', 1, 60, '{}', NULL);
      INSERT INTO danube.tenants (name) VALUES ('other') ON CONFLICT DO NOTHING;
      UPDATE danube.jobs SET tenant = 'other' WHERE id = 25;
      INSERT INTO danube.workflow_edges (workflow_id, parent_id, child_id) VALUES (1, 21, 20);`);
    for (const jobId of ['20', '21', '22', '23', '24', '25']) {
      await artifacts.upload(
        header({ jobId, path: 'out.txt', size: 2 }),
        chunks(Buffer.from(jobId)),
      );
    }
  });

  it.each([
    ['its own', '20'],
    ['its workflow parent', '21'],
    ['a step it ran', '22'],
    ['the job that ran it as a step', '23'],
  ])('%s', async (_, owner) => {
    const { artifact, content } = await artifacts.openForJob('20', owner, 'out.txt');
    expect(artifact).toMatchObject({ jobId: owner, path: 'out.txt' });
    expect((await buffer(content)).toString()).toBe(owner);
  });

  it("not an unrelated job's, and another tenant's is not found", async () => {
    await expect(artifacts.openForJob('20', '24', 'out.txt')).rejects.toMatchObject({
      code: 'permission_denied',
      message: expect.stringMatching(/^job 20 cannot read job 24's artifacts/),
    });
    // The workflow edge runs one way: a parent does not read its child's artifacts.
    await expect(artifacts.openForJob('21', '20', 'out.txt')).rejects.toMatchObject({
      code: 'permission_denied',
    });
    await expect(artifacts.openForJob('20', '25', 'out.txt')).rejects.toMatchObject({
      code: 'not_found',
      message: 'job 25 has no artifact "out.txt"',
    });
  });

  it('the latest attempt that uploaded the path', async () => {
    await artifacts.upload(
      header({ jobId: '21', attempt: 2, path: 'out.txt', size: 2 }),
      chunks(Buffer.from('v2')),
    );
    const { artifact, content } = await artifacts.openForJob('20', '21', 'out.txt');
    expect(artifact.attempt).toBe(2);
    expect((await buffer(content)).toString()).toBe('v2');
  });
});

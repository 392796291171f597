/**
 * A job that uses @danube/sdk: it runs a step, reads a secret, refuses to read one it did
 * not list, reports progress, uploads a file, downloads it back and sets its result.
 *
 * This folder is a project of its own that installs the SDK as a package; README.md here
 * says how to build it and submit it. Inside the repository the same file is also
 * compiled by `npm run build` (to dist/examples/typescript/sdk-job.js), against the
 * SDK's sources.
 *
 * SDK_JOB_UPLOAD_BYTES sets the size of the uploaded file (default 5 MiB).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  JobServiceError,
  artifacts,
  close,
  ctx,
  progress,
  secrets,
  setResult,
  step,
} from '@danube/sdk';

async function main(): Promise<void> {
  console.log(`job ${ctx.jobId}, attempt ${ctx.attempt}, topic ${ctx.topic}`);

  // A step is a job of its own (see GET /v1/jobs?...: parentJobId), run and waited for.
  const greeting = await step.run('echo "hello from a step"; echo "to stderr" >&2', {
    name: 'greet',
  });
  console.log(`step ${greeting.jobId} ${greeting.status}: ${greeting.stdout.trim()}`);

  // A listed secret can be read; print facts about it, never the value.
  const token = await secrets.get('api-token');
  console.log(`api-token has ${token.length} characters`);

  // One that the job's spec does not list is refused.
  let unlisted = 'readable';
  try {
    await secrets.get('not-listed');
  } catch (error) {
    if (!(error instanceof JobServiceError)) throw error;
    unlisted = `refused (gRPC status ${error.code}): ${error.message}`;
  }
  console.log(`not-listed: ${unlisted}`);

  await progress(50, 'half way: uploading');

  const bytes = randomBytes(Number(process.env.SDK_JOB_UPLOAD_BYTES ?? 5 * 1024 * 1024));
  const file = join(ctx.outputDir ?? process.cwd(), 'random.bin');
  await writeFile(file, bytes);
  const uploaded = await artifacts.upload(file);
  console.log(`uploaded ${uploaded.size} bytes as artifact ${uploaded.artifactId}`);

  // Artifacts can be read back: this job's own, a workflow parent's ({ fromNode }), a step's.
  const copy = await artifacts.download('random.bin', { to: 'copy.bin' });
  const roundTrip = createHash('sha256')
    .update(await readFile(copy.file))
    .digest('hex');

  await setResult({
    step: { jobId: greeting.jobId, stdout: greeting.stdout, stderr: greeting.stderr },
    tokenLength: token.length,
    unlisted,
    artifact: { ...uploaded, expectedSha256: createHash('sha256').update(bytes).digest('hex') },
    downloadedSha256: roundTrip,
  });
  close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { InvalidArgumentError } from '@danube/core';

const MAX_PATH_LENGTH = 1024;

/**
 * Checks an artifact's path as the job named it: relative, '/'-separated, with no empty,
 * '.' or '..' segment, so that it can never name anything outside the job's own files.
 */
export function checkArtifactPath(path: string, field = 'path'): string {
  const refuse = (why: string) =>
    new InvalidArgumentError(`${field} ${JSON.stringify(path)} ${why}`, { field });
  if (path === '') throw refuse('is empty; name the file, e.g. reports/summary.json');
  if (path.length > MAX_PATH_LENGTH) throw refuse(`is longer than ${MAX_PATH_LENGTH} characters`);
  if (path.startsWith('/')) throw refuse('is absolute; give a path relative to the job');
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\\]/.test(path)) throw refuse('holds a control character or a backslash');
  for (const segment of path.split('/')) {
    if (segment === '..') throw refuse('climbs out with ".."; artifact paths stay inside the job');
    if (segment === '' || segment === '.') throw refuse('has an empty or "." segment');
  }
  return path;
}

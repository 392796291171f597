import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/** A file to upload: its artifact path (relative, '/'-separated) and where to read it. */
export interface OutputFile {
  path: string;
  file: string;
}

export interface OutputListing {
  files: OutputFile[];
  /** Entries left out on purpose: not regular files, or links out of the outputs dir. */
  skipped: { path: string; why: string }[];
  /** Directories that could not be read: whatever they hold is lost. */
  unreadable: { path: string; why: string }[];
}

/**
 * Every regular file under `dir`, in a stable order. The job wrote this directory and may
 * have left anything in it, so nothing is followed out of it: a symbolic link is collected
 * only when it leads to a regular file inside the directory (a link to /var/run/secrets
 * would otherwise upload the sidecar's own files), and FIFOs, sockets and devices are
 * skipped (reading a FIFO would block until the deadline). Linked directories are skipped
 * too: their files are collected where they really are, and links cannot make cycles.
 * A directory that does not exist holds nothing to collect.
 */
export async function listOutputFiles(dir: string): Promise<OutputListing> {
  const listing: OutputListing = { files: [], skipped: [], unreadable: [] };
  const root = await containedRealPath(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') listing.unreadable.push({ path: '.', why: reason(error) });
    return null;
  });
  if (root === null) return listing;
  if (!(await stat(root)).isDirectory()) {
    listing.unreadable.push({ path: '.', why: `${dir} is not a directory` });
    return listing;
  }

  const walk = async (absolute: string, path: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(absolute);
    } catch (error) {
      listing.unreadable.push({ path: `${path || '.'}/`, why: reason(error) });
      return;
    }
    for (const name of names.sort()) {
      const file = join(absolute, name);
      const artifactPath = path ? `${path}/${name}` : name;
      const info = await lstat(file).catch((error: unknown) => reason(error));
      if (typeof info === 'string') {
        listing.unreadable.push({ path: artifactPath, why: info });
      } else if (info.isDirectory()) {
        await walk(file, artifactPath);
      } else if (info.isFile()) {
        listing.files.push({ path: artifactPath, file });
      } else if (info.isSymbolicLink()) {
        const skipped = await linkTarget(root, file);
        if (typeof skipped === 'string') listing.skipped.push({ path: artifactPath, why: skipped });
        else listing.files.push({ path: artifactPath, file: skipped.file });
      } else {
        listing.skipped.push({ path: artifactPath, why: 'not a regular file' });
      }
    }
  };
  await walk(root, '');
  return listing;
}

/** The regular file a link inside `root` leads to, or why it is skipped. */
async function linkTarget(root: string, link: string): Promise<{ file: string } | string> {
  let target: string;
  try {
    target = await realpath(link);
  } catch {
    return 'a symbolic link to nothing';
  }
  if (target === root) return 'a symbolic link to the outputs directory';
  if (!isInside(root, target)) return 'a symbolic link out of the outputs directory';
  const info = await stat(target).catch(() => null);
  if (!info) return 'a symbolic link to a file that cannot be read';
  if (info.isFile()) return { file: target };
  return info.isDirectory()
    ? 'a symbolic link to a directory (its files are collected where they are)'
    : 'a symbolic link to something other than a regular file';
}

/**
 * The real path of `path`, which must stay inside its parent directory: the job may have
 * replaced the last component (the outputs directory, result.json) with a link, but not
 * the shared volume it sits on.
 */
export async function containedRealPath(path: string): Promise<string> {
  const [parent, real] = await Promise.all([realpath(dirname(path)), realpath(path)]);
  if (!isInside(parent, real)) {
    throw Object.assign(new Error(`${path} is a symbolic link out of ${dirname(path)}`), {
      code: 'ELINKOUT',
    });
  }
  return real;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

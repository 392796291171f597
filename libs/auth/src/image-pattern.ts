/**
 * Image rules are globs over the whole image reference: `*` matches any run of characters
 * (slashes and colons included), everything else matches itself. `ghcr.io/acme/*` allows
 * every image under ghcr.io/acme; `python:3.12*` every 3.12 tag of python.
 */
export function imageMatches(pattern: string, image: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(image);
}

export const IMAGE_PATTERN_RULE =
  'an image reference where * matches any run of characters, e.g. ghcr.io/acme/* (at most 512 characters, no spaces)';
export const IMAGE_PATTERN = /^[^\s]{1,512}$/;

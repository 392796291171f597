/** What a masked secret is replaced with in stored output. */
export const MASK = '***';

/**
 * Masks secret values in text that is about to be stored (log lines, stderr tails), in the
 * forms a job is likely to print them: as they are, and base64 (with and without padding),
 * base64url, hex (both cases) and URL-encoded. What it cannot catch is any other change of
 * the value: a part of it, reversed, split over lines, encrypted, another encoding, or base64
 * of a longer text that contains it (which encodes it differently depending on where it sits).
 */
export class SecretMasker {
  private readonly pattern: RegExp | null;

  constructor(values: readonly string[]) {
    const forms = new Set<string>();
    for (const value of values) {
      if (value === '') continue;
      for (const form of encodedForms(value)) if (form !== '') forms.add(form);
    }
    // Longest first, so that a longer form is masked whole rather than around a shorter one.
    const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'g') : null;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }
}

function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  const hex = bytes.toString('hex');
  return [
    value,
    base64,
    base64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

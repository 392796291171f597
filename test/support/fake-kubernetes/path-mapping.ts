/**
 * Rewrites container paths into host paths. A container path is mapped wherever it appears
 * as a whole path prefix in the string, not only at its start, so that shell commands
 * (`sh -c 'echo x > /danube/outputs/a'`) and `--flag=/danube/x` reach the host directory.
 */
export class PathMapping {
  private readonly pattern: RegExp | null;
  private readonly targets: Map<string, string>;

  /** `mappings`: container path -> host directory. The longest container path wins. */
  constructor(mappings: Record<string, string>) {
    this.targets = new Map(
      Object.entries(mappings)
        .map(([from, to]): [string, string] => [from.replace(/\/+$/, ''), to.replace(/\/+$/, '')])
        .filter(([from]) => from.startsWith('/') && from.length > 1),
    );
    const prefixes = [...this.targets.keys()].sort((a, b) => b.length - a.length);
    this.pattern = prefixes.length
      ? new RegExp(String.raw`(^|[^\w./-])(${prefixes.map(escape).join('|')})(?=$|/|[^\w.-])`, 'g')
      : null;
  }

  map(value: string): string {
    if (!this.pattern) return value;
    return value.replace(
      this.pattern,
      (_match, before: string, prefix: string) => before + this.targets.get(prefix)!,
    );
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

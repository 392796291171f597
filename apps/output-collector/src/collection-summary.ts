import type { CallRecord } from './call-policy';
import type { ResultState } from './collect-outputs';
import type { OutputFile } from './output-files';

/**
 * The collector's last line, in words: what arrived, what did not and why. The executor
 * reads it from the container's termination message, so it is one line, every part clipped.
 */

/** Everything a summary tells of one collection. */
export interface Collection {
  jobId: string;
  attempt: number;
  address: string;
  deadlineMs: number;
  startedAt: number;
  /** False until the outputs directory was listed. */
  listed: boolean;
  files: readonly OutputFile[];
  skipped: readonly { path: string; why: string }[];
  unreadable: readonly { path: string; why: string }[];
  /** Uploaded paths with their sizes. */
  uploaded: ReadonlyMap<string, number>;
  result: ResultState;
  resultNote: string;
  /** What the collector was doing last (for a collection that ran out of time). */
  doing: string;
  calls: CallRecord;
}

/** The one line for a collection in which everything arrived. */
export function successLine(c: Collection): string {
  const total = [...c.uploaded.values()].reduce((sum, size) => sum + size, 0);
  const uploaded = `uploaded ${count(c.uploaded.size, 'output')}${c.uploaded.size > 0 ? ` (${bytes(total)})` : ''}`;
  const result =
    c.result === 'reported'
      ? 'reported the result'
      : c.result === 'ignored'
        ? `ignored the result file (${c.resultNote})`
        : 'found no result file';
  const skipped =
    c.skipped.length > 0
      ? `; skipped ${count(c.skipped.length, 'entry', 'entries')} of the outputs directory (not regular files, or links out of it)`
      : '';
  return oneLine(
    `${who(c)}: ${uploaded} and ${result} in ${seconds(Date.now() - c.startedAt)}${skipped}`,
  );
}

/** The one line for a collection in which something did not arrive. */
export function failureLine(c: Collection, notUploaded: { path: string; why: string }[]): string {
  const elapsed = seconds(Date.now() - c.startedAt);
  const { stop, tries, answered, transient } = c.calls;
  const lostPart = lost(c, notUploaded);
  switch (stop?.kind) {
    case 'unreachable':
      return oneLine(
        `${answered === 0 ? 'could not reach' : 'gave up on'} the JobService at ${c.address} after ${count(tries, 'try', 'tries')} in ${elapsed} (${transientCounts(c.calls)}); ${lostPart}`,
      );
    case 'refused':
      return oneLine(
        `the JobService at ${c.address} refused ${who(c)} (${stop.code}: ${clip(stop.message)}); ${lostPart}`,
      );
    case 'out-of-time':
      return oneLine(
        `ran out of time: the COLLECTOR_DEADLINE_MS deadline (${seconds(c.deadlineMs)}) passed while ${c.doing} (${count(tries, 'try', 'tries')} to the JobService at ${c.address}${transient.size > 0 ? `: ${transientCounts(c.calls)}` : ''}); ${lostPart}`,
      );
    default:
      return oneLine(refusedLine(c, notUploaded));
  }
}

function who(c: Collection): string {
  return `job ${c.jobId} attempt ${c.attempt}`;
}

/** Every call got an answer, but some outputs or the result were refused or unreadable. */
function refusedLine(c: Collection, notUploaded: { path: string; why: string }[]): string {
  const total = c.files.length + c.unreadable.length;
  const parts: string[] = [];
  if (notUploaded.length > 0) {
    const listed = notUploaded
      .slice(0, 3)
      .map(({ path, why }) => `${clip(path, 120)} (${clip(why)})`)
      .join(', ');
    const more = notUploaded.length > 3 ? `, and ${notUploaded.length - 3} more` : '';
    const others = total - notUploaded.length;
    parts.push(
      `${notUploaded.length} of ${count(total, 'output')} of ${who(c)} ${were(notUploaded.length)} not uploaded: ${listed}${more}; the other ${others} ${were(others)} uploaded`,
    );
  }
  if (c.result === 'failed') {
    parts.push(
      parts.length > 0
        ? `its result was not reported (${clip(c.resultNote)})`
        : `the result of ${who(c)} was not reported (${clip(c.resultNote)}); its ${count(total, 'output')} ${were(total)} uploaded`,
    );
  } else if (c.result === 'reported') {
    parts.push('its result was reported');
  }
  return parts.join(' and ');
}

/** What did not arrive, after the collection stopped. */
function lost(c: Collection, notUploaded: { path: string; why: string }[]): string {
  if (!c.listed) return `the outputs of ${who(c)} were not even listed, so none were uploaded`;
  const total = c.files.length + c.unreadable.length;
  const resultLost = c.result === 'pending' || c.result === 'failed';
  if (notUploaded.length > 0) {
    return `${notUploaded.length} of ${count(total, 'output')} of ${who(c)} ${were(notUploaded.length)} not uploaded${resultLost ? ' and its result was not reported' : ''}`;
  }
  if (resultLost) {
    return `the result of ${who(c)} was not reported${total > 0 ? ` (its ${count(total, 'output')} ${were(total)} uploaded)` : ''}`;
  }
  return `everything of ${who(c)} had arrived`;
}

function transientCounts(calls: CallRecord): string {
  return [...calls.transient]
    .map(([code, { count, last }]) => `${count} ${code}: ${clip(last)}`)
    .join('; ');
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function were(n: number): string {
  return n === 1 ? 'was' : 'were';
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * The executor reads the last line of the termination message, which the kubelet cuts to
 * the log's last 2048 bytes: keep it to one line, every part of it clipped to fit.
 */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function clip(text: string, max = 200): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

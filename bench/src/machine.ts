import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** What a result file must say about the machine, so that two of them compare honestly. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: { start: number[]; end: number[] | null };
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAverage: { start: loadavg().map(round2), end: null },
  };
}

/** The same facts, with the load average at the end of the run filled in. */
export function atEnd(facts: MachineFacts): MachineFacts {
  return { ...facts, loadAverage: { ...facts.loadAverage, end: loadavg().map(round2) } };
}

/** One line for the report. */
export function describeMachine(facts: MachineFacts): string {
  const load = (l: number[] | null) => (l ? l.map((v) => v.toFixed(2)).join(' / ') : 'n/a');
  return `Machine: ${facts.cpus} CPUs (${facts.cpuModel}), ${facts.memoryGiB} GiB, ${facts.os}, Node ${facts.node}; load average (1 / 5 / 15 min) ${load(facts.loadAverage.start)} at the start, ${load(facts.loadAverage.end)} at the end.`;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

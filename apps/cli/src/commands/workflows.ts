import type { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import type { ApiClient } from '../api-client';
import { EXIT } from '../api-client';
import type { WorkflowNodeView, WorkflowSummaryView, WorkflowView } from '@danube/sdk/rest-client';
import { STATUS_MARK, dateTime, print, table } from '../output';
import { readSpecFile, wholeNumber } from './jobs';

type Client = (command: Command) => { api: ApiClient; json: boolean };

type GraphNode = WorkflowNodeView;

/**
 * The DAG as text, one layer per line group: each node at the depth of its longest path
 * from a root, with its state and what it waits for.
 *
 *   layer 0  [ok] generate
 *   layer 1  [run] analyse        <- generate
 */
export function renderGraph(graph: {
  workflow: { id: string; name: string; status: string };
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
}): string {
  const nodes = graph.nodes.filter((n) => n.stepOf === null);
  const parents = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  for (const edge of graph.edges) parents.get(edge.to)?.push(edge.from);
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const d = Math.max(-1, ...(parents.get(name) ?? []).map(depthOf)) + 1;
    depth.set(name, d);
    return d;
  };
  const width = Math.max(
    ...nodes.map((n) => n.name.length + (STATUS_MARK[n.status] ?? n.status).length + 1),
  );
  const layers = new Map<number, GraphNode[]>();
  for (const node of nodes)
    layers.set(depthOf(node.name), [...(layers.get(depthOf(node.name)) ?? []), node]);
  const steps = graph.nodes.filter((n) => n.stepOf !== null);
  const lines = [`workflow ${graph.workflow.id} ${graph.workflow.name}: ${graph.workflow.status}`];
  for (const d of [...layers.keys()].sort((a, b) => a - b)) {
    layers.get(d)!.forEach((node, i) => {
      const label = `${STATUS_MARK[node.status] ?? node.status} ${node.name}`.padEnd(width);
      const from = parents.get(node.name)!;
      lines.push(
        `${i === 0 ? `layer ${d}`.padEnd(9) : ' '.repeat(9)}${label}${from.length ? `  <- ${from.join(', ')}` : ''}`,
      );
      for (const step of steps.filter((s) => s.stepOf === node.jobId)) {
        lines.push(`${' '.repeat(11)}step ${STATUS_MARK[step.status] ?? step.status} ${step.name}`);
      }
    });
  }
  return lines.map((line) => line.trimEnd()).join('\n');
}

function countByStatus(nodes: GraphNode[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of nodes) counts[node.status] = (counts[node.status] ?? 0) + 1;
  return counts;
}

async function watch(api: ApiClient, id: string, json: boolean): Promise<WorkflowView> {
  const bar = new SingleBar(
    {
      format: ' {bar} {value}/{total} nodes done  {states}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      // Without a terminal (CI, pipes) the bar is printed as a line every half second.
      noTTYOutput: true,
      notTTYSchedule: 500,
    },
    Presets.shades_classic,
  );
  let started = false;
  try {
    for (;;) {
      const current = await api.get<WorkflowView>(`/v1/workflows/${id}`);
      const nodes = current.nodes.filter((n) => n.stepOf === null);
      const counts = countByStatus(nodes);
      const done = nodes.filter((n) =>
        ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'].includes(n.status),
      ).length;
      const states = Object.entries(counts)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ');
      if (!json) {
        if (!started) bar.start(nodes.length, 0, { states });
        started = true;
        bar.update(done, { states });
      }
      if (current.status !== 'running') return current;
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    if (started) bar.stop();
  }
}

export function registerWorkflowCommands(program: Command, client: Client): void {
  const wf = program.command('wf').description('workflows (DAGs of jobs)');

  wf.command('submit')
    .description('submit a workflow from a JSON or YAML file')
    .argument('<file>', 'the workflow: {name, nodes: [{name, command, dependsOn?, ...}]}')
    .option('-w, --watch', 'show a live progress bar of node states until it ends')
    .action(async (file: string, options, command: Command) => {
      const { api, json } = client(command);
      const created = await api.post<WorkflowView>('/v1/workflows', readSpecFile(file));
      if (!options.watch) {
        print(json, created, () => `submitted workflow ${created.id} (${created.nodeCount} nodes)`);
        return;
      }
      const done = await watch(api, created.id, json);
      print(json, done, () => `workflow ${created.id} ${done.status}`);
      process.exitCode = done.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    });

  wf.command('get')
    .description('show a workflow and its nodes')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const current = await api.get<WorkflowView>(`/v1/workflows/${encodeURIComponent(id)}`);
      print(json, current, () => {
        const w = current;
        const counts = Object.entries(countByStatus(current.nodes))
          .map(([s, n]) => `${s} ${n}`)
          .join(', ');
        return `workflow ${w.id} ${w.name}: ${w.status} (${counts})`;
      });
    });

  wf.command('graph')
    .description('draw the workflow as text, with node states')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const graph = await api.get<Parameters<typeof renderGraph>[0]>(
        `/v1/workflows/${encodeURIComponent(id)}/graph`,
      );
      print(json, graph, () => renderGraph(graph));
    });

  wf.command('list')
    .description('list workflows, newest first')
    .option('-s, --status <status>', 'only this status (running, succeeded, failed, cancelled)')
    .option('-n, --limit <n>', 'how many', wholeNumber, 20)
    .action(async (options, command: Command) => {
      const { api, json } = client(command);
      const query = new URLSearchParams({ limit: String(options.limit) });
      if (options.status) query.set('status', options.status);
      const page = await api.get<{ items: WorkflowSummaryView[] }>(`/v1/workflows?${query}`);
      print(json, page, () =>
        table(
          ['id', 'name', 'status', 'nodes', 'unfinished', 'created', 'finished'],
          page.items.map((w) => [
            w.id,
            w.name,
            w.status,
            w.nodeCount,
            w.unfinishedNodes,
            dateTime(w.createdAt),
            dateTime(w.finishedAt),
          ]),
        ),
      );
    });

  wf.command('cancel')
    .description('cancel a workflow: its waiting nodes are cancelled, its running ones stopped')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const done = await api.post<WorkflowView>(`/v1/workflows/${encodeURIComponent(id)}/cancel`);
      print(
        json,
        done,
        () => `workflow ${done.id} ${done.status}: cancel requested for its unfinished nodes`,
      );
    });

  wf.command('retry')
    .description('run the failed, cancelled and skipped nodes of a workflow again')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options, command: Command) => {
      const { api, json } = client(command);
      const again = await api.post<WorkflowView>(`/v1/workflows/${encodeURIComponent(id)}/retry`);
      print(json, again, () => `workflow ${again.id} ${again.status} again`);
    });
}

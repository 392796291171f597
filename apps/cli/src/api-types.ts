/** The parts of the REST API's answers the CLI reads (see /docs for all of them). */
export interface JobView {
  id: string;
  topic: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  command: string[] | string;
  progress: number | null;
  statusMessage: string | null;
  result: unknown;
  error: { category: string; message: string; exitCode: number | null } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface WorkflowNodeView {
  name: string;
  jobId: string;
  status: string;
  stepOf: string | null;
}

export interface WorkflowView {
  id: string;
  name: string;
  status: string;
  nodeCount: number;
  nodes: WorkflowNodeView[];
}

export interface ExecutorView {
  id: string;
  state: string;
  topics: string[] | null;
  runtime: string;
  running: number;
  capacity: number;
  heartbeatAt: string;
}

export interface LogLineView {
  id: string;
  stream: string;
  line: string;
}

-- Up Migration
-- Workflows: jobs that wait for their parents.

CREATE TYPE danube.workflow_status AS ENUM ('running', 'succeeded', 'failed', 'cancelled');
CREATE TYPE danube.trigger_rule AS ENUM ('all_success', 'all_done', 'one_success');

CREATE TABLE danube.workflows (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant           text NOT NULL DEFAULT 'default',
  name             text NOT NULL,
  labels           jsonb NOT NULL DEFAULT '{}',
  status           danube.workflow_status NOT NULL DEFAULT 'running',
  node_count       integer NOT NULL,
  -- Nodes not yet in a terminal status; the workflow ends when it reaches 0. Kept as a
  -- counter so that finishing a node costs the same in a workflow of 3 nodes or 10,000.
  unfinished_nodes integer NOT NULL,
  -- Nodes that ended failed or timed out (a failed workflow has at least one).
  failed_nodes     integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);

ALTER TABLE danube.jobs
  ADD COLUMN workflow_id       bigint,
  ADD COLUMN node_name         text,
  ADD COLUMN trigger_rule      danube.trigger_rule,
  -- Fan-in counters: parents not yet terminal, and how those that are ended.
  ADD COLUMN pending_parents   integer NOT NULL DEFAULT 0,
  ADD COLUMN succeeded_parents integer NOT NULL DEFAULT 0,
  ADD COLUMN failed_parents    integer NOT NULL DEFAULT 0,
  ADD COLUMN skip_reason       text;

-- A workflow's nodes; partial, so jobs outside workflows pay nothing for it.
CREATE INDEX jobs_by_workflow ON danube.jobs (workflow_id, node_name) WHERE workflow_id IS NOT NULL;

-- parent -> child; the primary key serves "the children of this parent" (release).
CREATE TABLE danube.workflow_edges (
  workflow_id bigint NOT NULL,
  parent_id   bigint NOT NULL,
  child_id    bigint NOT NULL,
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX workflow_edges_child ON danube.workflow_edges (child_id);

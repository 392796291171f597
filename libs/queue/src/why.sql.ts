import { EXECUTOR_IS_ALIVE } from './executors.sql';

/**
 * The facts behind GET /v1/jobs/:id/why, for a job of tenant $2, in one snapshot: when it
 * may run, its parents, its tenant's quotas and use, and the live executors that serve its
 * topic with their free slots (alive: see EXECUTOR_IS_ALIVE).
 */
export const WHY_FACTS = `
  SELECT j.id, j.status, j.topic, j.tenant, j.task_class, j.run_at, j.attempts, j.waiting_reason,
         j.run_at > now() AS later,
         t.max_running,
         (t.max_running_by_class ->> j.task_class)::integer AS class_cap,
         (SELECT count(*) FROM danube.jobs r
          WHERE r.tenant = j.tenant AND r.status IN ('claimed', 'running'))::integer AS tenant_running,
         (SELECT count(*) FROM danube.jobs r
          WHERE r.tenant = j.tenant AND r.task_class = j.task_class
            AND r.status IN ('claimed', 'running'))::integer AS class_running,
         (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', p.id::text, 'name', p.node_name, 'status', p.status) ORDER BY p.id), '[]')
          FROM danube.workflow_edges e JOIN danube.jobs p ON p.id = e.parent_id
          WHERE e.child_id = j.id) AS parents,
         x.executors, x.free_slots, x.waiting_full
  FROM danube.jobs j
  LEFT JOIN danube.tenants t ON t.name = j.tenant
  CROSS JOIN LATERAL (
    -- An executor with as many attempts waiting to start as it may (maxPendingJobs) claims
    -- nothing, however many slots it has.
    SELECT count(*)::integer AS executors,
           coalesce(sum(greatest(least(e.capacity - e.running,
                                       coalesce(e.max_waiting - e.waiting, e.capacity)), 0)), 0)::integer AS free_slots,
           count(*) FILTER (WHERE e.waiting >= e.max_waiting)::integer AS waiting_full
    FROM danube.executors e
    WHERE ${EXECUTOR_IS_ALIVE} AND (j.topic = ANY(e.topics) OR 'ALL' = ANY(e.topics))
  ) x
  WHERE j.id = $1 AND j.tenant = $2`;

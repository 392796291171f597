import { JobSpecError, type ClaimedJob } from '@danube/core';
import type { WorkflowsRepository } from '@danube/dag';
import { JobTokens, type Keyring, type SecretsService } from '@danube/secrets';

/** The variables an attempt gets beyond its own env, and the values to keep out of its logs. */
export interface AttemptEnvironment {
  env: Record<string, string>;
  /** Secret values injected into env: masked wherever the attempt's output is stored. */
  secretValues: string[];
}

export interface JobEnvironmentOptions {
  workflows: WorkflowsRepository;
  secrets: SecretsService;
  /** null without DANUBE_SECRET_KEY: jobs get no token and no secrets. */
  keyring: Keyring | null;
  /** Where jobs reach the JobService (DANUBE_GRPC_ADDRESS) and the REST API (DANUBE_API_URL). */
  grpcAddress: string;
  apiUrl: string;
}

/**
 * Everything the executor adds to a job's environment for one attempt: where the API is,
 * the attempt's job token, its workflow context (parents' results), and the secrets its
 * spec maps into variables with `secretEnv`.
 */
export class JobEnvironment {
  private readonly tokens: JobTokens | null;

  constructor(private readonly options: JobEnvironmentOptions) {
    this.tokens = options.keyring ? new JobTokens(options.keyring) : null;
  }

  async forAttempt(job: ClaimedJob): Promise<AttemptEnvironment> {
    const env: Record<string, string> = {
      DANUBE_GRPC_ADDRESS: this.options.grpcAddress,
      DANUBE_API_URL: this.options.apiUrl,
      DANUBE_LABELS: JSON.stringify(job.labels),
    };
    if (this.tokens) env.DANUBE_JOB_TOKEN = this.tokens.issue(job.id, job.attempts);
    if (job.workflowId !== null) Object.assign(env, await this.workflowEnv(job));
    const secretValues = await this.injectSecrets(job, env);
    return { env, secretValues };
  }

  /** A workflow node sees its parents' results, keyed by node name, as DANUBE_PARENT_RESULTS. */
  private async workflowEnv(job: ClaimedJob): Promise<Record<string, string>> {
    const rows = await this.options.workflows.parentResults(job.id);
    return {
      DANUBE_WORKFLOW_ID: job.workflowId!,
      DANUBE_NODE_NAME: job.nodeName ?? '',
      DANUBE_PARENT_RESULTS: JSON.stringify(
        Object.fromEntries(rows.map((r) => [r.nodeName, r.result ?? null])),
      ),
      DANUBE_PARENT_JOB_IDS: JSON.stringify(
        Object.fromEntries(rows.map((r) => [r.nodeName, r.id])),
      ),
    };
  }

  private async injectSecrets(job: ClaimedJob, env: Record<string, string>): Promise<string[]> {
    const mapping = Object.entries(job.spec.secretEnv ?? {});
    if (mapping.length === 0) return [];
    if (!this.options.keyring) {
      throw new JobSpecError(
        'the job maps secrets into its env (secretEnv) but this executor has no DANUBE_SECRET_KEY to decrypt them',
      );
    }
    const values = await this.options.secrets.reveal(job.tenant, [
      ...new Set(mapping.map(([, name]) => name)),
    ]);
    for (const [variable, name] of mapping) {
      const value = values.get(name);
      if (value === undefined) {
        throw new JobSpecError(
          `secretEnv.${variable} names secret "${name}", which does not exist; create it with PUT /v1/secrets/${name}`,
        );
      }
      env[variable] = value;
    }
    return [...values.values()].filter((v) => v !== '');
  }
}

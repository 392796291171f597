import { Injectable } from '@nestjs/common';

/** Something else a process needs to be ready: null when fine, else what is wrong. */
export interface ReadinessCheck {
  name: string;
  problem(): string | null;
}

/**
 * What /readyz checks besides Postgres. Whatever a process depends on registers here when
 * it is made (the executor's runtime: its Kubernetes API answers), so the health
 * controller needs to know nothing of it.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: ReadinessCheck[] = [];

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  list(): readonly ReadinessCheck[] {
    return this.checks;
  }
}

import { Injectable } from '@nestjs/common';
import type { Queryable } from '@danube/db';
import { AuditRepository } from './audit.repository';
import type { Principal } from './principal';
import type { AuditRecord } from './records';

/**
 * What happened, by whom: submissions, cancels, retries, secret writes and deletes, key
 * creations and revocations, tenant and quota changes. `on` writes in the caller's
 * transaction when one is given, so the entry exists exactly when the change does.
 */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async record(
    who: Principal,
    action: string,
    target: string | null,
    details: Record<string, unknown> | null = null,
    on?: Queryable,
  ): Promise<void> {
    const repository = on ? AuditRepository.on(on) : this.audit;
    await repository.insert({ keyId: who.keyId, tenant: who.tenant, action, target, details });
  }

  list(filter: {
    tenant: string | null;
    before: string | null;
    limit: number;
  }): Promise<AuditRecord[]> {
    return this.audit.list(filter);
  }
}

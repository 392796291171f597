import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { AuditRecord } from './records';
import * as sql from './audit.sql';

interface AuditRow {
  id: string;
  at: Date;
  key_id: string | null;
  tenant: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

/** danube.audit_log: the statements of audit.sql.ts. */
@Injectable()
export class AuditRepository extends Repository {
  async insert(entry: Omit<AuditRecord, 'id' | 'at'>): Promise<void> {
    await this.db.query(sql.INSERT_AUDIT, [
      entry.keyId,
      entry.tenant,
      entry.action,
      entry.target,
      entry.details === null ? null : JSON.stringify(entry.details),
    ]);
  }

  async list(filter: {
    tenant: string | null;
    before: string | null;
    limit: number;
  }): Promise<AuditRecord[]> {
    const { rows } = await this.db.query<AuditRow>(sql.LIST_AUDIT, [
      filter.tenant,
      filter.before,
      filter.limit,
    ]);
    return rows.map((row) => ({
      id: row.id,
      at: row.at,
      keyId: row.key_id,
      tenant: row.tenant,
      action: row.action,
      target: row.target,
      details: row.details,
    }));
  }
}

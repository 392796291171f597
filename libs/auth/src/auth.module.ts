import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { AUTH_OPTIONS, AuthGuard, type AuthOptions } from './auth.guard';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

/**
 * Keys, tenants, quotas, image rules and the audit log. `guard: true` (the API) installs
 * AuthGuard on every route; executors import the services only.
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(options: AuthOptions & { guard: boolean }): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: AUTH_OPTIONS, useValue: { enabled: options.enabled } },
        ApiKeysRepository,
        ApiKeysService,
        TenantsRepository,
        TenantsService,
        AuditRepository,
        AuditService,
        ...(options.guard ? [{ provide: APP_GUARD, useClass: AuthGuard }] : []),
      ],
      exports: [AUTH_OPTIONS, ApiKeysService, TenantsService, AuditService],
    };
  }
}

import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DanubeError } from '@danube/core';
import { PUBLIC_ROUTE } from '@danube/observability';
import type { Request } from 'express';
import { ApiKeysService } from './api-keys.service';
import { REQUIRED_ROLE, setPrincipal } from './auth.decorators';
import { AUTH_OFF_PRINCIPAL, roleAllows, type Role } from './principal';

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export interface AuthOptions {
  /** false only when DANUBE_AUTH=off: every caller is an admin of the default tenant. */
  enabled: boolean;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The one place REST requests are authenticated and authorised: every route needs an API
 * key (`Authorization: Bearer dnb_live_...`) unless marked PublicRoute; the key's role
 * must reach the route's (RequiresRole, else viewer for reads and member for writes).
 * The key is looked up on every request, so a revocation counts from the next one. The
 * JobService (gRPC) is not checked here: its callers are jobs, with job tokens (JobCallerAuth).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const principal = this.options.enabled ? await this.authenticate(request) : AUTH_OFF_PRINCIPAL;
    const needed =
      this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE, targets) ??
      (READ_METHODS.has(request.method) ? 'viewer' : 'member');
    if (!roleAllows(principal.role, needed)) {
      throw new DanubeError(
        'permission_denied',
        `this needs a key with role ${needed} or above; key ${principal.keyPrefix}... has role ${principal.role}`,
      );
    }
    setPrincipal(request, principal);
    return true;
  }

  private async authenticate(request: Request) {
    const header = request.header('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new DanubeError(
        'unauthenticated',
        header === undefined
          ? 'no API key: send the header "Authorization: Bearer <key>" (npm start prints a key and keeps it in .danube/admin-key)'
          : 'the Authorization header must be "Bearer <key>"',
      );
    }
    const principal = await this.keys.authenticate(match[1]!);
    if (!principal) {
      throw new DanubeError(
        'unauthenticated',
        'the API key is not valid: unknown, revoked or expired; ask an admin for a new one',
      );
    }
    return principal;
  }
}

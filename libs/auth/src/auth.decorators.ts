import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal, Role } from './principal';

export const REQUIRED_ROLE = 'danube:required-role';

/**
 * The least role a route needs. Without it, reads (GET) need a viewer and every other
 * method a member.
 */
export const RequiresRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** The request's principal, set by AuthGuard. */
export const Caller = createParamDecorator((_: unknown, context: ExecutionContext): Principal =>
  principalOf(context.switchToHttp().getRequest()),
);

const PRINCIPAL = Symbol('danube.principal');

export function setPrincipal(request: Request, principal: Principal): void {
  (request as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

export function principalOf(request: Request): Principal {
  const principal = (request as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
  if (!principal) throw new Error('no principal on this request: is AuthGuard installed?');
  return principal;
}

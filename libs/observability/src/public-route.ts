import { SetMetadata } from '@nestjs/common';

/** Metadata key of routes that answer without an API key (see PublicRoute). */
export const PUBLIC_ROUTE = 'danube:public-route';

/**
 * Marks a controller or handler as open to anyone who can reach the port: health checks
 * and metrics, which orchestrators and Prometheus call without credentials. The API's
 * auth guard lets these through and asks every other route for a key.
 */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

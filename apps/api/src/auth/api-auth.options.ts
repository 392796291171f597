export const API_OPTIONS_AUTH = Symbol('API_OPTIONS_AUTH');

export interface ApiAuthOptions {
  /** false only with DANUBE_AUTH=off. */
  enabled: boolean;
  /** DANUBE_ADMIN_KEY: stored at start as an admin key of the default tenant. */
  adminKey: string | null;
}

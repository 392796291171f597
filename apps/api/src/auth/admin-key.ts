import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeysService } from '@danube/auth';
import { API_OPTIONS_AUTH, type ApiAuthOptions } from './api-auth.options';

/**
 * At start: stores DANUBE_ADMIN_KEY (how a deployment gets its first key, from a Secret)
 * as an admin key of the default tenant, and warns when auth is off.
 */
@Injectable()
export class AdminKeyAtStart implements OnApplicationBootstrap {
  private readonly logger = new Logger('auth');

  constructor(
    private readonly keys: ApiKeysService,
    @Inject(API_OPTIONS_AUTH) private readonly options: ApiAuthOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled) {
      this.logger.warn(
        'DANUBE_AUTH=off: every request is an admin of the default tenant, without a key. Use this only where nobody else can reach the API.',
      );
    }
    if (this.options.adminKey) await this.keys.adopt(this.options.adminKey, 'DANUBE_ADMIN_KEY');
  }
}

import { Global, Module, type DynamicModule } from '@nestjs/common';
import { JobTokens } from './job-token';
import type { Keyring } from './keyring';
import { SecretsRepository } from './secrets.repository';
import { KEYRING, SecretsService } from './secrets.service';

/** Secrets and job tokens, both keyed by DANUBE_SECRET_KEY (null: neither is available). */
@Global()
@Module({})
export class SecretsModule {
  static forRoot(keyring: Keyring | null): DynamicModule {
    return {
      module: SecretsModule,
      providers: [
        { provide: KEYRING, useValue: keyring },
        { provide: JobTokens, useValue: keyring ? new JobTokens(keyring) : null },
        SecretsRepository,
        SecretsService,
      ],
      exports: [KEYRING, JobTokens, SecretsService],
    };
  }
}

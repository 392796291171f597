import { Module, type DynamicModule } from '@nestjs/common';
import { ARTIFACT_STORE } from './artifact-store';
import { ArtifactsRepository } from './artifacts.repository';
import { ARTIFACTS_OPTIONS, ArtifactsService } from './artifacts.service';
import { FilesystemArtifactStore } from './filesystem-artifact-store';

export interface ArtifactsModuleOptions {
  /** Folder of the filesystem store (ARTIFACT_DIR). */
  dir: string;
  /** ARTIFACT_MAX_BYTES. */
  maxBytes: number;
}

@Module({})
export class ArtifactsModule {
  static forRoot(options: ArtifactsModuleOptions): DynamicModule {
    return {
      module: ArtifactsModule,
      providers: [
        { provide: ARTIFACT_STORE, useValue: new FilesystemArtifactStore(options.dir) },
        { provide: ARTIFACTS_OPTIONS, useValue: { maxBytes: options.maxBytes } },
        ArtifactsRepository,
        ArtifactsService,
      ],
      exports: [ArtifactsService, ARTIFACT_STORE],
    };
  }
}

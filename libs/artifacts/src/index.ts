export * from './artifact-path';
export * from './artifact-store';
export * from './artifacts.module';
export * from './artifacts.repository';
export * from './artifacts.service';
export * from './filesystem-artifact-store';

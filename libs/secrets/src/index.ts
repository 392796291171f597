export * from './job-token';
export * from './keyring';
export * from './secret-cipher';
export * from './secrets.module';
export * from './secrets.repository';
export * from './secrets.service';
export * from './secret-masker';

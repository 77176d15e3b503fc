export * from './config.exception';
export * from './load-env.util';
export * from './base-env.schema';
export * from './apps-file.schema';
export * from './load-apps-file.util';
export * from './apps.registry';
export * from './config.module';

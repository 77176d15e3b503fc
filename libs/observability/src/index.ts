export * from './record-context';
export * from './redact.util';
export * from './readiness-check';
export * from './logger.module';
export * from './observability.module';
export * from './tracing-context';

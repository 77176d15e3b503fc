export * from './problem.exception';
export * from './problem-details.filter';
export * from './zod-body.pipe';
export * from './api-key.guard';
export * from './correlation.middleware';
export * from './bootstrap';
export * from './platform-imports';

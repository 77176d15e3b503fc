export * from './dispatch.types';
export * from './retry.policy';
export * from './outcome.util';
export * from './recent-jobs';
export * from './bounded.util';
export * from './due.util';
export * from './dispatch.metrics';
export * from './batch.dispatcher';

export * from './consumer-group';
export * from './consumer-groups.registry';
export * from './connect-consumers';
export * from './kafka-batch.context';
export * from './kafka.decorators';
export * from './kafka.transport';
export * from './rethrow.filter';
export * from './runner-for';

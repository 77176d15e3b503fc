export * from './infra';
export * from './kafka.helpers';
export * from './fake-fcm';
export * from './fake-apns';
export * from './tls-material';
export * from './fault-proxy';

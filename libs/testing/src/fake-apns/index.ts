export * from './fake-apns.rules';
export * from './fake-apns.server';
export * from './jwt-check';
export * from './apns-credentials';
export * from './apns-request.fixture';

export {
  FakeFcm,
  type FakeFcmAnswer,
  type FakeFcmFault,
  type FakeFcmOptions,
  type ReceivedSend,
} from './fake-fcm.server';
export { FCM_ERRORS, type FakeFcmBehaviour, type FcmErrorCode } from './fake-fcm.rules';
export { generateServiceAccount, type ServiceAccountJson } from './service-account';

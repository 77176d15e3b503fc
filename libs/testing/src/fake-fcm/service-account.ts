import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** The JSON Google hands out for a service account, with a key generated here and now. */
export interface ServiceAccountJson {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
}

export interface GeneratedServiceAccount {
  json: ServiceAccountJson;
  /** PEM (SPKI) of the key's public half: what the fake OAuth endpoint verifies against. */
  publicKey: string;
}

export function generateServiceAccount(projectId: string): GeneratedServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey,
    json: {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey,
      client_email: `firebase-adminsdk@${projectId}.iam.gserviceaccount.com`,
      client_id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    },
  };
}

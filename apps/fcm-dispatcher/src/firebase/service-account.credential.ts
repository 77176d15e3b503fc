import type { Credential, GoogleOAuthAccessToken } from 'firebase-admin/app';
import { JWT } from 'google-auth-library';
import type { Agent } from 'node:https';
import { fetchThrough } from './agent.fetch';

/** The fields of a service account JSON the dispatcher needs. */
export interface ServiceAccount {
  project_id?: string;
  client_email: string;
  private_key: string;
}

export const FCM_SCOPES = [
  'https://www.googleapis.com/auth/firebase.messaging',
  'https://www.googleapis.com/auth/cloud-platform',
];

/**
 * A firebase-admin credential that signs the service account's RS256 assertion with
 * google-auth-library's JWT and sends the token request through `agent`. firebase-admin's own
 * `cert(sa, agent)` does not route the token request through its agent (it still resolves
 * `oauth2.googleapis.com`), so with an endpoint override this is what makes the whole credential
 * flow reach the fake or proxy. firebase-admin caches the token and asks again before it expires.
 */
export class ServiceAccountCredential implements Credential {
  private readonly jwt: JWT;

  constructor(sa: ServiceAccount, agent: Agent) {
    this.jwt = new JWT({
      email: sa.client_email,
      key: sa.private_key,
      scopes: FCM_SCOPES,
      transporterOptions: {
        agent,
        timeout: 10_000,
        fetchImplementation: fetchThrough(agent, 10_000),
      },
    });
  }

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    const creds = await this.jwt.authorize();
    if (!creds.access_token) throw new Error('the token endpoint returned no access_token');
    const expiresIn = creds.expiry_date
      ? Math.max(0, Math.floor((creds.expiry_date - Date.now()) / 1000))
      : 3600;
    return { access_token: creds.access_token, expires_in: expiresIn };
  }
}

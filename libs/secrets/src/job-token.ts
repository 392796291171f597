import { createHmac, timingSafeEqual } from 'node:crypto';
import { DanubeError, isId } from '@danube/core';
import type { Keyring } from './keyring';

/** What a valid token says: the attempt it was issued to. */
export interface TokenClaims {
  jobId: string;
  attempt: number;
}

const VERSION = 'dnb1';

/**
 * Job tokens: `dnb1.<job id>.<attempt>.<key id>.<signature>`, an HMAC-SHA256 over the job id
 * and attempt under a key derived from DANUBE_SECRET_KEY. A token proves which attempt it
 * was given to; whether that attempt is still running is the database's to say, so a
 * token stops working the moment its attempt ends, with no expiry to tune.
 */
export class JobTokens {
  constructor(private readonly keyring: Keyring) {}

  issue(jobId: string, attempt: number): string {
    const keyId = this.keyring.current.id;
    return `${VERSION}.${jobId}.${attempt}.${keyId}.${this.sign(keyId, jobId, attempt)}`;
  }

  /** The token's claims; UNAUTHENTICATED with the reason when it is not a valid token. */
  verify(token: string): TokenClaims {
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) {
      throw new DanubeError(
        'unauthenticated',
        'the job token is malformed; send DANUBE_JOB_TOKEN as is',
      );
    }
    const [, jobId, attemptText, keyId, signature] = parts as [
      string,
      string,
      string,
      string,
      string,
    ];
    if (!isId(jobId) || !/^[1-9]\d{0,8}$/.test(attemptText)) {
      throw new DanubeError(
        'unauthenticated',
        'the job token is malformed; send DANUBE_JOB_TOKEN as is',
      );
    }
    if (!this.keyring.has(keyId)) {
      throw new DanubeError(
        'unauthenticated',
        `the job token was signed with key "${keyId}", which this server does not have`,
      );
    }
    const attempt = Number(attemptText);
    const expected = Buffer.from(this.sign(keyId, jobId, attempt));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new DanubeError('unauthenticated', 'the job token has a bad signature');
    }
    return { jobId, attempt };
  }

  private sign(keyId: string, jobId: string, attempt: number): string {
    return createHmac('sha256', this.keyring.derive(keyId, 'job-tokens'))
      .update(`${jobId}.${attempt}`)
      .digest('base64url');
  }
}

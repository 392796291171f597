import { createHmac } from 'node:crypto';
import { newSigningSecret, signatureHeader } from './webhook-signature';

describe('webhook signatures', () => {
  it('signs "<unix seconds>.<body>" with HMAC-SHA256 under the secret as shown', () => {
    const secret = 'whsec_test';
    const body = '{"id":"1","type":"job.succeeded"}';
    const at = new Date('2030-01-02T03:04:05.678Z');
    const t = Math.floor(at.getTime() / 1000);
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signatureHeader(secret, body, at)).toBe(`t=${t},v1=${expected}`);
  });

  it('gives a different signature for another body, time or secret', () => {
    const at = new Date('2030-01-02T03:04:05Z');
    const base = signatureHeader('whsec_a', '{}', at);
    expect(signatureHeader('whsec_a', '{} ', at)).not.toBe(base);
    expect(signatureHeader('whsec_a', '{}', new Date(at.getTime() + 1000))).not.toBe(base);
    expect(signatureHeader('whsec_b', '{}', at)).not.toBe(base);
  });

  it('makes fresh 256-bit secrets with the whsec_ prefix', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newSigningSecret()).not.toBe(a);
  });
});

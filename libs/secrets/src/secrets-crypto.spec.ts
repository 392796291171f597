import { JobTokens } from './job-token';
import { Keyring } from './keyring';
import { openSecret, sealSecret } from './secret-cipher';

const k1 = Keyring.generate('k1');
const k2 = Keyring.generate('k2');

describe('Keyring.parse', () => {
  it('takes the first key as current and keeps the rest for older data', () => {
    const keyring = Keyring.parse(`${k2}, ${k1}`);
    expect(keyring.current.id).toBe('k2');
    expect(keyring.has('k1')).toBe(true);
  });

  it.each([
    ['', /no keys given/],
    ['abc', /key id must be/],
    ['k1:c2hvcnQ=', /must be 32 bytes of base64, not 5/],
    [`${k1},${k1}`, /key id repeats/],
    ['bad id!:xxxx', /key id must be/],
  ])('refuses %j with a message that says how to fix it', (value, message) => {
    expect(() => Keyring.parse(value)).toThrow(message);
    expect(() => Keyring.parse(value)).toThrow(/openssl rand -base64 32/);
  });

  it('never echoes key material in its errors', () => {
    const material = 'QUJDREVGR0hJSktMTU5PUA==';
    expect(() => Keyring.parse(`k1:${material}`)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(material) }),
    );
  });
});

describe('secret sealing', () => {
  it('round-trips under the current key and still opens after rotation', () => {
    const sealed = sealSecret(Keyring.parse(k1), 'db-password', 'hunter2');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext.toString('utf8')).not.toContain('hunter2');
    expect(openSecret(Keyring.parse(`${k2},${k1}`), 'db-password', sealed)).toBe('hunter2');
  });

  it('refuses a ciphertext moved to another name or altered', () => {
    const keyring = Keyring.parse(k1);
    const sealed = sealSecret(keyring, 'a', 'value');
    expect(() => openSecret(keyring, 'b', sealed)).toThrow(/failed its integrity check/);
    sealed.ciphertext[0] = sealed.ciphertext[0]! ^ 1;
    expect(() => openSecret(keyring, 'a', sealed)).toThrow(/failed its integrity check/);
  });

  it('says which key is missing when the keyring no longer holds it', () => {
    const sealed = sealSecret(Keyring.parse(k1), 'a', 'value');
    expect(() => openSecret(Keyring.parse(k2), 'a', sealed)).toThrow(/key "k1"/);
  });
});

describe('JobTokens', () => {
  const tokens = new JobTokens(Keyring.parse(k1));

  it('verifies the job and attempt it was issued for', () => {
    expect(tokens.verify(tokens.issue('42', 3))).toEqual({ jobId: '42', attempt: 3 });
  });

  it('still verifies tokens of the previous key after rotation', () => {
    const old = tokens.issue('7', 1);
    expect(new JobTokens(Keyring.parse(`${k2},${k1}`)).verify(old)).toEqual({
      jobId: '7',
      attempt: 1,
    });
  });

  it.each([
    ['garbage', /malformed/],
    ['dnb1.42.1.k1', /malformed/],
    ['dnb1.x.1.k1.sig', /malformed/],
  ])('refuses %j as unauthenticated', (token, message) => {
    expect(() => tokens.verify(token)).toThrow(message);
  });

  it('refuses a token whose job or attempt was changed', () => {
    const [v, , attempt, keyId, sig] = tokens.issue('42', 1).split('.');
    expect(() => tokens.verify([v, '43', attempt, keyId, sig].join('.'))).toThrow(
      expect.objectContaining({
        code: 'unauthenticated',
        message: 'the job token has a bad signature',
      }),
    );
    const [, job] = tokens.issue('42', 1).split('.');
    expect(() => tokens.verify([v, job, '2', keyId, sig].join('.'))).toThrow(/bad signature/);
  });

  it('refuses a token signed by a key it does not have', () => {
    const foreign = new JobTokens(Keyring.parse(k2)).issue('42', 1);
    expect(() => tokens.verify(foreign)).toThrow(/key "k2", which this server does not have/);
  });
});

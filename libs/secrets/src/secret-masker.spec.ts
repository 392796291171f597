import { SecretMasker } from './secret-masker';

describe('SecretMasker', () => {
  const secret = 's3cr3t value/+?';
  const masker = new SecretMasker([secret, 'other']);
  const bytes = Buffer.from(secret);

  it.each([
    ['as it is', secret],
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
    ['URL-encoded', encodeURIComponent(secret)],
    ['form-encoded', encodeURIComponent(secret).replace(/%20/g, '+')],
  ])('masks the value %s, wherever it sits in a line', (_form, printed) => {
    expect(masker.mask(`token=${printed}; more`)).toBe('token=***; more');
    expect(masker.mask(`${printed}${printed}`)).toBe('******');
  });

  it('masks every secret it was given and leaves the rest of the line', () => {
    expect(masker.mask('a other b')).toBe('a *** b');
    expect(masker.mask('nothing secret here')).toBe('nothing secret here');
  });

  it('ignores empty values instead of masking between every character', () => {
    expect(new SecretMasker(['']).mask('abc')).toBe('abc');
    expect(new SecretMasker([]).mask('abc')).toBe('abc');
  });
});

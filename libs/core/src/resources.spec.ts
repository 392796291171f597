import { quantityAmount, resourceHintsProblem } from './resources';

describe('quantityAmount', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['1k', 1000],
    ['1Ki', 1024],
    ['256Mi', 256 * 2 ** 20],
    ['1G', 1e9],
    ['1Gi', 2 ** 30],
  ])('reads %s as %d', (quantity, amount) => {
    expect(quantityAmount(quantity)).toBe(amount);
  });

  it('orders quantities of different suffixes', () => {
    expect(quantityAmount('16Mi')).toBeLessThan(quantityAmount('256Mi'));
    expect(quantityAmount('1Gi')).toBeGreaterThan(quantityAmount('1G'));
    expect(quantityAmount('100m')).toBeLessThan(quantityAmount('1'));
  });

  it('refuses what is not a quantity', () => {
    expect(() => quantityAmount('lots')).toThrow(/not a Kubernetes quantity/);
  });
});

describe('resourceHintsProblem', () => {
  it('refuses a request above its own limit, naming both', () => {
    expect(resourceHintsProblem({ requests: { cpu: '2' }, limits: { cpu: '1500m' } })).toEqual([
      '.requests.cpu',
      '(2) must not be more than limits.cpu (1500m)',
    ]);
  });

  it('accepts a request equal to or below its limit, and either alone', () => {
    expect(
      resourceHintsProblem({ requests: { memory: '1Gi' }, limits: { memory: '1Gi' } }),
    ).toBeNull();
    expect(resourceHintsProblem({ requests: { memory: '1Gi' } })).toBeNull();
    expect(resourceHintsProblem({ limits: { memory: '16Mi' } })).toBeNull();
  });
});

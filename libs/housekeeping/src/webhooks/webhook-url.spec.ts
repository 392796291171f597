import { checkWebhookUrl } from './webhook-url';

describe('webhook URLs as written', () => {
  it.each([
    'https://hooks.example.com/danube?token=x',
    'http://127.0.0.1:8080/hook',
    'http://[::1]:9/',
  ])('takes %s', (url) => {
    expect(checkWebhookUrl(url).href).toBe(new URL(url).href);
  });

  it.each([
    ['ftp://example.com/hook', /must be http or https, not ftp/],
    ['javascript:alert(1)', /must be http or https, not javascript/],
    ['example.com/hook', /is not a URL/],
    ['https://user:secret@example.com/', /user name or password/],
    [`https://example.com/${'x'.repeat(2048)}`, /longer than 2048/],
  ])('refuses %s, naming url', (url, why) => {
    let caught: unknown;
    try {
      checkWebhookUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'invalid_argument', details: { field: 'url' } });
    expect((caught as Error).message).toMatch(/^url /);
    expect((caught as Error).message).toMatch(why);
  });
});

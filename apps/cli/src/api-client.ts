/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Exit codes (README "CLI"). */
export const EXIT = {
  ok: 0,
  /** The API refused the request, or a waited-for job or workflow did not succeed. */
  failed: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** The API could not be reached. */
  unreachable: 3,
  /** A waited-for job timed out (as timeout(1) does). */
  timedOut: 124,
  /** A waited-for job was cancelled or skipped. */
  cancelled: 130,
} as const;

/** The REST API, with errors turned into one clear line each. */
export class ApiClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get<T>(path: string): Promise<T> {
    return this.request('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request('POST', path, body);
  }

  /** A streaming GET (Server-Sent Events); the caller reads the body. */
  async stream(path: string): Promise<Response> {
    const response = await this.fetch('GET', path);
    if (!response.ok) await this.fail('GET', path, response);
    return response;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(method, path, body);
    if (!response.ok) await this.fail(method, path, response);
    const text = await response.text();
    return (text === '' ? null : JSON.parse(text)) as T;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the Danube API at ${this.baseUrl} (${cause?.code ?? cause?.message ?? String(error)}); is it running? Set DANUBE_URL or --url to its address`,
        EXIT.unreachable,
      );
    }
  }

  private async fail(method: string, path: string, response: Response): Promise<never> {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: the text as it is
    }
    throw new CliError(`${method} ${path}: ${response.status} ${message}`, EXIT.failed);
  }
}

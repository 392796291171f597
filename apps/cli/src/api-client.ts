// The REST half of the SDK only: loading gRPC would add a tenth of a second to every command.
import { DanubeApiError, DanubeClient, DanubeUnreachableError } from '@danube/sdk/rest-client';

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The HTTP status when the API refused, for a command that can live with some refusals. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Said after a 401, where a key comes from. */
const KEY_HINT =
  'set DANUBE_API_KEY or --api-key (npm start keeps an admin key in .danube/admin-key)';

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

/**
 * The REST API through the SDK's DanubeClient, with its errors turned into one clear line
 * each and the exit code that goes with them.
 */
export class ApiClient {
  private readonly client: DanubeClient;

  constructor(baseUrl: string, apiKey?: string) {
    this.client = new DanubeClient(baseUrl, { apiKey });
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  get<T>(path: string): Promise<T> {
    return this.call(() => this.client.request<T>('GET', path));
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call(() => this.client.request<T>('POST', path, body));
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.call(() => this.client.request<T>('PUT', path, body));
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.call(() => this.client.request<T>('PATCH', path, body));
  }

  delete<T>(path: string): Promise<T> {
    return this.call(() => this.client.request<T>('DELETE', path));
  }

  /** A streaming GET (Server-Sent Events); the caller reads the body. */
  stream(path: string): Promise<Response> {
    return this.call(() => this.client.stream(path));
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof DanubeUnreachableError) {
        throw new CliError(
          `${error.message}; is it running? Set DANUBE_API_URL or --url to its address`,
          EXIT.unreachable,
        );
      }
      if (error instanceof DanubeApiError) {
        // A 403's message says what the key may not do; a 401 also needs where keys come from.
        const message = error.status === 401 ? `${error.message}; ${KEY_HINT}` : error.message;
        throw new CliError(message, EXIT.failed, error.status);
      }
      throw error;
    }
  }
}

/**
 * Runs `listen` (a server starting on `address`); a port that is already taken becomes one
 * line that names the address and the variable that moves it, instead of the server
 * library's own wording (grpc-js: "No address added out of total 1 resolved").
 */
export async function listenOn<T>(
  what: string,
  address: string,
  variable: string,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const text = `${error instanceof Error ? error.message : String(error)} ${String((error as { code?: unknown })?.code ?? '')}`;
    if (/EADDRINUSE|address already in use/i.test(text)) {
      throw new Error(
        `${what} cannot listen on ${address}: the port is taken (another Danube, or another program, uses it); set ${variable} to a free port`,
      );
    }
    throw error;
  }
}

/**
 * How every Danube process starts and stops: a failed start is one line and exit 1; SIGTERM
 * and SIGINT close the application gracefully.
 */

/**
 * Runs a process's async main. If it fails before the process is up (bad configuration,
 * database unreachable), prints one line naming the program and the problem, then exits 1.
 */
export function runMain(program: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message =
      error instanceof Error
        ? error.message
        : typeof error === 'string'
          ? error
          : JSON.stringify(error);
    process.stderr.write(`${program}: ${message}\n`);
    process.exit(1);
  });
}

/**
 * On SIGTERM or SIGINT, closes the application (Nest runs every shutdown hook: the
 * executor's graceful stop, the pool's end) and exits 0. A second signal exits at once.
 */
export function closeOnSignals(
  app: { close(): Promise<void> },
  log: (message: string) => void = () => undefined,
): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    closing = true;
    log(`${signal}: shutting down`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

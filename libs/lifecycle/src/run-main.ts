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
 * A signal this soon after the first is the same request: a terminal's Ctrl-C reaches every
 * process of the foreground group, and `npm start` forwards it to its child as well.
 */
export const REPEATED_SIGNAL_MS = 1000;

/**
 * On SIGTERM or SIGINT, closes the application (Nest runs every shutdown hook: the
 * executor's graceful stop, the pool's end), then runs `afterClose` (the standalone stops
 * its embedded Postgres there, last) and exits 0. Another signal more than
 * REPEATED_SIGNAL_MS after the first exits at once.
 */
export function closeOnSignals(
  app: { close(): Promise<void> },
  log: (message: string) => void = () => undefined,
  afterClose: () => Promise<void> = async () => undefined,
): void {
  let closingSince: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closingSince !== null) {
      if (Date.now() - closingSince < REPEATED_SIGNAL_MS) return;
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    closingSince = Date.now();
    log(`${signal}: shutting down`);
    app
      .close()
      .then(afterClose)
      .then(
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

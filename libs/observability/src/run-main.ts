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

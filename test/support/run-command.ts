import { execFile } from 'node:child_process';

/**
 * Runs a command to its end and resolves with what it printed; when it fails (or runs past
 * `timeoutMs`, when it is killed), the error carries its output, so a test's failure says
 * why. `env` adds to this process's environment. Asynchronous on purpose: a test that
 * blocked its event loop for a long command would find its keep-alive HTTP connections
 * closed under it by the server.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 300_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, ...options.env },
      },
      (error, stdout, stderr) =>
        error
          ? reject(
              new Error(
                `${command} ${args.join(' ')} failed (${error.message}):\n${stdout}${stderr}`,
              ),
            )
          : resolve(stdout),
    );
  });
}

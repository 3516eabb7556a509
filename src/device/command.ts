// Runs a set-up command to completion and collects what it wrote. node:child_process rather than execa
// here: execa takes ~85 ms to load, paid by every run on the way to its token, for what a spawn does.
import { spawn } from "node:child_process";

export interface CommandResult {
  /** Undefined when it did not exit by itself (not started, killed, timed out). */
  exitCode?: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Why it could not be started or was killed, when it did not exit by itself. */
  failure?: string;
  /** The spawn error's code (ENOENT: not installed). */
  code?: string;
}

export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => ((timedOut = true), child.kill("SIGTERM")), opts.timeoutMs);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const done = (r: Omit<CommandResult, "stdout" | "stderr" | "timedOut">) => {
      clearTimeout(timer);
      resolve({ ...r, stdout: stdout.trimEnd(), stderr: stderr.trimEnd(), timedOut });
    };
    child.on("error", (err: NodeJS.ErrnoException) => done({ failure: `${cmd}: ${err.message}`, code: err.code }));
    child.on("close", (code, signal) =>
      done(code === null ? { failure: `${cmd} was killed by ${signal}` } : { exitCode: code }),
    );
  });
}

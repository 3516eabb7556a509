// Runs a set-up command to completion and collects what it wrote. node:child_process rather than execa
// here: execa takes ~85 ms to load, paid by every run on the way to its token, for what a spawn does.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

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
  /** tied: the command is killed (SIGTERM) when p11compat dies, see dieWithParent. */
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; tied?: boolean } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    // A command that is not there is spawned as it is, so that it fails as not installed (ENOENT).
    const argv = [...(opts.tied && onPath(cmd, opts.env) ? dieWithParent("TERM") : []), cmd, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
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

let setpriv: string | null | undefined;

/**
 * The argv prefix that has the kernel send `signal` to the command the moment p11compat dies, even by
 * kill -9 (setpriv --pdeathsig: PR_SET_PDEATHSIG, which Node.js has no call for); empty where there is
 * no setpriv (not Linux). Looked up on PATH once, without starting a process.
 */
export function dieWithParent(signal: "TERM" | "KILL"): string[] {
  if (setpriv === undefined) setpriv = process.platform === "linux" ? onPath("setpriv") : null;
  return setpriv ? [setpriv, "--pdeathsig", signal, "--"] : [];
}

/** Where `cmd` is (a path, or found on PATH), or null. */
function onPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (cmd.includes("/")) return existsSync(cmd) ? cmd : null;
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((d) => path.isAbsolute(d));
  return dirs.map((d) => path.join(d, cmd)).find((f) => existsSync(f)) ?? null;
}

// How the CLI reports problems: input and device errors are the user's to fix and get a plain
// message and exit code 1; anything else is a bug and keeps its stack.
import { InputError } from "../input/yamlSchema.js";
import { DeviceError } from "../device/model.js";
import { WorkerStartError } from "../runner/supervisor.js";
import { ReportFileError } from "../report/read.js";
import { sameFile } from "../report/files.js";

export function fail(err: unknown): never {
  if (
    err instanceof InputError ||
    err instanceof DeviceError ||
    err instanceof WorkerStartError ||
    err instanceof UsageError ||
    err instanceof ReportFileError
  ) {
    process.stderr.write(`p11compat: ${err.message}\n`);
  } else if (isSystemError(err)) {
    // The machine refused something (a file, a process): the user's to fix, and Node's message names it.
    process.stderr.write(`p11compat: ${err.message}\n`);
  } else {
    process.stderr.write(`p11compat: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
}

export class UsageError extends Error {}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | undefined;
  return e instanceof Error && typeof e.code === "string" && typeof e.syscall === "string";
}

/** An output file named like one of the command's inputs would destroy it: refused before anything is written. */
export function notAnInput(out: string, inputs: string[], option: string): void {
  const input = inputs.find((f) => sameFile(out, f));
  if (input) throw new UsageError(`${option} ${out} is the input ${input}; give another file`);
}

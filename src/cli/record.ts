// `p11compat record -- CLIENT ARGS`: the client's conversation with a throwaway token as a client profile.
import { loadDevice } from "../device/load.js";
import { execOn, record, RecordError } from "../record/record.js";
import { DEVICES_DIR } from "./run.js";
import { UsageError } from "./output.js";

interface RecordFlags {
  device: string;
  out: string;
  module?: string;
  moduleEnv?: string;
  twice?: boolean;
  timeout: string;
}

function secondsOf(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout must be a number of seconds > 0, got ${text}`);
  return seconds;
}

/** `p11compat exec -- CLIENT ARGS`: the client on a fresh throwaway token; its exit code is ours (125: ours failed). */
export async function execCommand(
  command: string,
  args: string[],
  flags: Omit<RecordFlags, "out" | "twice">,
): Promise<void> {
  try {
    const profile = await loadDevice(flags.device, DEVICES_DIR);
    const run = await execOn({
      profile,
      command,
      args,
      modulePath: flags.module,
      moduleEnv: flags.moduleEnv,
      timeoutSeconds: secondsOf(flags.timeout),
    });
    if (run.timedOut) process.stderr.write(`p11compat: ${command} timed out after ${flags.timeout} s\n`);
    else if (run.signal) process.stderr.write(`p11compat: ${command} was killed by ${run.signal}\n`);
    process.exitCode = run.exitCode ?? 1;
  } catch (err) {
    // 125, as env(1) and container runners do: p11compat could not run the program at all (a bad
    // profile, a token that could not be set up), told apart from the program's own failure.
    process.stderr.write(
      `p11compat: ${err instanceof Error && !(err instanceof RecordError) && err.constructor === Error ? `internal error: ${err.stack}` : (err as Error).message}\n`,
    );
    process.exit(125);
  }
}

export async function recordCommand(command: string, args: string[], flags: RecordFlags): Promise<void> {
  const timeoutSeconds = secondsOf(flags.timeout);
  const profile = await loadDevice(flags.device, DEVICES_DIR);
  try {
    await record({
      profile,
      command,
      args,
      out: flags.out,
      modulePath: flags.module,
      moduleEnv: flags.moduleEnv,
      twice: flags.twice,
      timeoutSeconds,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof RecordError) throw new UsageError(err.message);
    throw err;
  }
}

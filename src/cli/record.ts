// `p11compat record -- CLIENT ARGS`: the client's conversation with a throwaway token as a client profile.
import { loadDevice } from "../device/load.js";
import { record, RecordError } from "../record/record.js";
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

export async function recordCommand(command: string, args: string[], flags: RecordFlags): Promise<void> {
  const timeoutSeconds = Number(flags.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError(`--timeout must be a number of seconds > 0, got ${flags.timeout}`);
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

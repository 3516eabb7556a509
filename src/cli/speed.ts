// `p11compat speed`: operations per second and latency per mechanism and key, each result checked,
// beside a bare pkcs11js loop on the same operation; a table on stdout and reports/<device>-<time>-speed.json.
import { loadDevice } from "../device/load.js";
import { normalizeMechanism, mechanism } from "../catalogue/mechanisms.js";
import { runSpeed } from "../runner/speed.js";
import { speedTable } from "../report/speed.js";
import { DEVICES_DIR } from "./run.js";
import { UsageError } from "./output.js";

interface SpeedFlags {
  device: string;
  module?: string;
  mechanism?: string[];
  sessions?: string;
  seconds: string;
  out: string;
  keyGenerations?: string;
  serial?: string;
  allowOverwrite?: string;
  quiet?: boolean;
}

function whole(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${what} takes a whole number of at least ${min}, not "${text}"`);
  return n;
}

export async function speedCommand(flags: SpeedFlags): Promise<void> {
  const seconds = Number(flags.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--seconds takes a positive number (0.5, 2 ...), not "${flags.seconds}"`);
  const mechanisms = flags.mechanism?.map((m) => {
    const name = normalizeMechanism(m);
    if (!mechanism(name)) throw new UsageError(`--mechanism ${m}: not a mechanism p11compat knows`);
    return name;
  });
  const profile = await loadDevice(flags.device, DEVICES_DIR);
  const log = (line: string) => !flags.quiet && process.stderr.write(`${line}\n`);
  const { report, reportPath } = await runSpeed({
    profile,
    outDir: flags.out,
    modulePath: flags.module,
    seconds,
    sessions: flags.sessions === undefined ? undefined : whole(flags.sessions, "--sessions", 1),
    mechanisms,
    keyGenerations:
      flags.keyGenerations === undefined ? undefined : whole(flags.keyGenerations, "--key-generations", 1),
    serial: flags.serial,
    allowOverwrite: flags.allowOverwrite,
    onPreflight: log,
    // What the user must know before the measuring starts (a YubiKey's key generations) shows even with --quiet.
    onNotice: (line) => process.stderr.write(`${line}\n`),
    onEvent: (event) => {
      if (event.kind === "touch") process.stderr.write(`>>> ${event.text} <<<\n`);
      else if (event.kind === "progress") log(event.text);
    },
    onResult: (r, done, total) => log(`[${done}/${total}] ${r.id}: ${r.status}`),
  });
  process.stdout.write(`${speedTable(report)}\nreport: ${reportPath}\n`);
}

// Records the PC/SC calls of a command with pcsc-lite's spying library (libpcscspy, Debian's
// libpcsclite-dev) into a pcsc-spy trace, redacted line by line as it arrives: PINs, PUKs and
// management keys never reach the disk. The spy library is put in front of libpcsclite for this one
// command only (a private library directory on LD_LIBRARY_PATH, as pcsc-lite's install_spy.sh does
// system-wide), so clients that link libpcsclite and those that dlopen it (OpenSC, pyscard) are seen.
import { spawn, spawnSync } from "node:child_process";
import {
  constants,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { TraceRedactor } from "./trace.js";

/** A library of ldconfig's cache by soname, e.g. libpcsclite.so.1. */
function library(soname: string): string | undefined {
  const r = spawnSync("sh", ["-c", "ldconfig -p 2>/dev/null || /sbin/ldconfig -p"], { encoding: "utf8" });
  const line = r.stdout.split("\n").find((l) => l.trim().startsWith(`${soname} `) && l.includes("x86-64"));
  const any = line ?? r.stdout.split("\n").find((l) => l.trim().startsWith(`${soname} `));
  return any?.split("=>")[1]?.trim();
}

export interface CaptureResult {
  code: number;
  /** Lines written, and how many buffers were redacted. */
  lines: number;
  redactions: number;
}

/** Runs `command` with the spy in front of libpcsclite, writing the redacted trace to `out`. */
export async function capture(
  out: string,
  command: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CaptureResult> {
  const spy = library("libpcscspy.so.0");
  const real = library("libpcsclite.so.1");
  if (!spy) throw new Error("libpcscspy.so.0 not found; install pcsc-lite's spy with apt-get install libpcsclite-dev");
  if (!real) throw new Error("libpcsclite.so.1 not found; install it with apt-get install libpcsclite1");
  if (!command.length) throw new Error("no command to capture");
  const dir = mkdtempSync(path.join(os.tmpdir(), "p11compat-capture-"));
  try {
    const lib = path.join(dir, "lib");
    mkdirSync(lib);
    symlinkSync(spy, path.join(lib, "libpcsclite.so.1"));
    symlinkSync(real, path.join(lib, "libpcsclite_nospy.so.1")); // where the spy finds the real library
    const fifo = path.join(dir, "pcsc-spy"); // the spy writes to $HOME/pcsc-spy
    if (spawnSync("sh", ["-c", 'mkfifo -m 600 "$0"', fifo]).status !== 0 || !existsSync(fifo))
      throw new Error(`could not create the FIFO ${fifo}`);
    // Read and write end held here: opening never blocks, and a command that never uses PC/SC is fine.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const input = new net.Socket({ fd, readable: true, writable: false });
    const file = createWriteStream(out, { mode: 0o600 });
    const redactor = new TraceRedactor();
    let rest = "";
    let lines = 0;
    input.setEncoding("utf8");
    input.on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const l of parts) {
        file.write(`${redactor.line(l)}\n`);
        lines++;
      }
    });
    const ld = [lib, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
    const child = spawn(command[0]!, command.slice(1), {
      stdio: "inherit",
      env: { ...env, HOME: dir, LD_LIBRARY_PATH: ld },
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    // What the command wrote is in the pipe already: let it drain, then close.
    await new Promise((r) => setTimeout(r, 200));
    input.destroy();
    if (rest) {
      file.write(`${redactor.line(rest)}\n`);
      lines++;
    }
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return { code, lines, redactions: redactor.redactions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

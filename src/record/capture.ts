// Runs a client with OpenSC's pkcs11-spy between it and the module. The spy writes its log into a
// FIFO that this process reads and redacts as it arrives: the log, which holds the PIN in clear, is
// never a file on disk.
import { spawn } from "node:child_process";
import { constants, existsSync, openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Socket } from "node:net";
import { runCommand } from "../device/command.js";
import { SpyParser, type RecordedCall } from "./spy.js";

/** Where Debian's opensc-pkcs11 puts the spy (multiarch first). */
const SPY_PATHS = [
  "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so",
  "/usr/lib/aarch64-linux-gnu/pkcs11-spy.so",
  "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so",
  "/usr/lib/pkcs11-spy.so",
];

export class RecordError extends Error {}

function findSpy(): string {
  const found = SPY_PATHS.find((p) => existsSync(p));
  if (!found) {
    throw new RecordError(
      `OpenSC's pkcs11-spy is not installed (looked for ${SPY_PATHS.join(", ")}): apt-get install opensc-pkcs11`,
    );
  }
  return found;
}

export interface CaptureOptions {
  /** The real module the spy forwards to. */
  modulePath: string;
  command: string;
  /** Arguments with {module} (the spy's path) and {pin} (the token's user PIN) filled in at spawn. */
  args: string[];
  /** The device's environment (SOFTHSM2_CONF ...). */
  env: Record<string, string>;
  pin?: string;
  /** Also set this variable to the spy's path (for clients that read the module from the environment). */
  moduleEnv?: string;
  timeoutMs: number;
}

export interface Captured {
  calls: RecordedCall[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The client's own error output, last lines, with the PIN removed. */
  stderr: string;
  /** The spy was loaded at least once. */
  loaded: boolean;
}

const fill = (arg: string, spy: string, pin: string | undefined) =>
  arg.replaceAll("{module}", spy).replaceAll("{pin}", pin ?? "");

/** Runs the client once and returns what it said to the module. */
export async function capture(opts: CaptureOptions): Promise<Captured> {
  const spy = findSpy();
  const dir = await mkdtemp(path.join(os.tmpdir(), "p11compat-record-"));
  const fifo = path.join(dir, "spy.fifo");
  try {
    const mk = await runCommand("mkfifo", ["-m", "600", fifo]);
    if (mk.exitCode !== 0) throw new RecordError(`could not make a FIFO for the spy: ${mk.stderr.trim()}`);
    // Read and write ends in this process: the reader never sees EOF between two client processes
    // (each opens and closes the spy's log), and opening never blocks.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const stream = new Socket({ fd, readable: true, writable: false });
    const parser = new SpyParser();
    let lastData = Date.now();
    let loaded = false;
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      lastData = Date.now();
      loaded = true;
      parser.push(chunk);
    });
    const env = {
      ...process.env,
      ...opts.env,
      PKCS11SPY: opts.modulePath,
      PKCS11SPY_OUTPUT: fifo,
      P11COMPAT_MODULE: spy,
      ...(opts.pin !== undefined ? { P11COMPAT_PIN: opts.pin } : {}),
      ...(opts.moduleEnv ? { [opts.moduleEnv]: spy } : {}),
    };
    const child = spawn(
      opts.command,
      opts.args.map((a) => fill(a, spy, opts.pin)),
      { env, stdio: ["inherit", "inherit", "pipe"] },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      process.stderr.write(opts.pin ? d.replaceAll(opts.pin, "****") : d);
      stderr = (stderr + d).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on("error", (err) =>
        reject(
          new RecordError(
            (err as NodeJS.ErrnoException).code === "ENOENT"
              ? `the client command ${opts.command} was not found`
              : `could not start ${opts.command}: ${err.message}`,
          ),
        ),
      );
      child.on("close", (code, signal) => resolve({ code, signal }));
    }).finally(() => clearTimeout(timer));
    // What the last writer left in the pipe: read until it has been quiet for a moment.
    while (Date.now() - lastData < 200) await new Promise((r) => setTimeout(r, 50));
    stream.destroy();
    const clean = opts.pin ? stderr.replaceAll(opts.pin, "****") : stderr;
    return {
      calls: parser.end(),
      exitCode: result.code,
      signal: result.signal,
      timedOut,
      stderr: clean,
      loaded,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
  /** For scripts that set a key up as the token wants it (a YubiKey's keys are made by the SO). */
  soPin?: string;
  keyLogin?: "user" | "so";
  /** The token's label where the profile names it (a module with several slots: NSS). */
  tokenLabel?: string;
  /** The C_Initialize parameter string the module needs (NSS softokn's configdir), if any. */
  libraryParameters?: string;
  /** Also set this variable to the spy's path (for clients that read the module from the environment). */
  moduleEnv?: string;
  timeoutMs: number;
}

export interface Captured extends ClientRun {
  calls: RecordedCall[];
  /** The spy was loaded at least once. */
  loaded: boolean;
}

const fill = (arg: string, module: string, pin: string | undefined) =>
  arg.replaceAll("{module}", module).replaceAll("{pin}", pin ?? "");

export interface ClientRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The client's own error output, last lines, with the PIN removed. */
  stderr: string;
}

/**
 * Runs the client with `module` as the module it should load ({module} in its arguments,
 * P11COMPAT_MODULE and --module-env in its environment), the PIN in P11COMPAT_PIN ({pin}), and for
 * set-up scripts P11COMPAT_SO_PIN, P11COMPAT_KEY_LOGIN, P11COMPAT_TOKEN_LABEL and
 * P11COMPAT_LIBRARY_PARAMETERS.
 */
export async function runClient(
  opts: CaptureOptions,
  module: string,
  extraEnv: Record<string, string> = {},
): Promise<ClientRun> {
  const env = {
    ...process.env,
    ...opts.env,
    ...extraEnv,
    P11COMPAT_MODULE: module,
    ...(opts.pin !== undefined ? { P11COMPAT_PIN: opts.pin } : {}),
    ...(opts.soPin !== undefined ? { P11COMPAT_SO_PIN: opts.soPin } : {}),
    P11COMPAT_KEY_LOGIN: opts.keyLogin ?? "user",
    ...(opts.tokenLabel ? { P11COMPAT_TOKEN_LABEL: opts.tokenLabel } : {}),
    ...(opts.libraryParameters ? { P11COMPAT_LIBRARY_PARAMETERS: opts.libraryParameters } : {}),
    ...(opts.moduleEnv ? { [opts.moduleEnv]: module } : {}),
  };
  const child = spawn(
    opts.command,
    opts.args.map((a) => fill(a, module, opts.pin)),
    { env, stdio: ["inherit", "inherit", "pipe"] },
  );
  const redact = (text: string) =>
    [opts.pin, opts.soPin].reduce<string>((t, pin) => (pin ? t.replaceAll(pin, "****") : t), text);
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    process.stderr.write(redact(d));
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
  return { exitCode: result.code, signal: result.signal, timedOut, stderr: redact(stderr) };
}

/** Runs the client once through the spy and returns what it said to the module. */
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
    const run = await runClient(opts, spy, { PKCS11SPY: opts.modulePath, PKCS11SPY_OUTPUT: fifo });
    // What the last writer left in the pipe: read until it has been quiet for a moment.
    while (Date.now() - lastData < 200) await new Promise((r) => setTimeout(r, 50));
    stream.destroy();
    return { ...run, calls: parser.end(), loaded };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The `initToken` set-up step: the token is initialised through PKCS#11 itself (C_InitToken, C_InitPIN,
// C_SetPIN) in a process of its own (token-init-process.ts), which gets the PINs over its IPC channel:
// a PIN on a tool's command line (softhsm2-util --pin, tpm2_ptool --userpin, pkcsconf -n) is visible
// to every local user in the process list.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dieWithParent } from "./command.js";
import { DeviceError, type InitTokenStep } from "./model.js";

/** What the process is sent: the module as the worker loads it, and what to set. */
export interface InitTokenRequest {
  modulePath: string;
  libraryParameters?: string;
  /** Slot id; default: the first slot whose token is not initialised. */
  slot?: number;
  label: string;
  /** The SO PIN the token has before C_InitToken (a factory default), when not the run's SO PIN. */
  factorySoPin?: string;
  soPin: string;
  userPin: string;
}

export type InitTokenReply = { ok: true; slot: string } | { ok: false; message: string };

// Compiled, the process is the file beside this one; run from the sources (under jest), the build's copy.
const PROCESS = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".ts") ? "../../dist/device/token-init-process.js" : "./token-init-process.js",
    import.meta.url,
  ),
);

export async function initToken(
  step: InitTokenStep,
  request: Omit<InitTokenRequest, "slot" | "label" | "factorySoPin">,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  if (!request.soPin || !request.userPin)
    throw new DeviceError("an initToken step needs both PINs: give pins.user and pins.so");
  const [deathsig, ...deathsigArgs] = dieWithParent("KILL");
  const child = fork(PROCESS, [], {
    ...(deathsig ? { execPath: deathsig } : {}),
    execArgv: deathsig ? [...deathsigArgs, process.execPath] : [],
    env: { ...process.env, ...env, NODE_OPTIONS: "" },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const what = `initToken (C_InitToken ${JSON.stringify(step.label)}${step.slot === undefined ? "" : ` in slot ${step.slot}`})`;
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const reply = await new Promise<InitTokenReply>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ ok: false, message: `no answer within ${Math.round(timeoutMs / 1000)} s` });
    }, timeoutMs);
    child.once("message", (m: InitTokenReply) => (clearTimeout(timer), resolve(m)));
    // 'close', not 'exit': it comes after the IPC channel has delivered everything the process sent.
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const last = stderr.trim().split("\n").slice(-3).join(" | ");
      resolve({
        ok: false,
        message: `its process ${signal ? `was killed by ${signal}` : `exited with ${code}`}${last ? `: ${last}` : ""}`,
      });
    });
    child.send({
      ...request,
      slot: step.slot,
      label: step.label,
      factorySoPin: step.factorySoPin,
    } satisfies InitTokenRequest);
  });
  // It replies, then finalizes the module and exits by itself; a module hanging in C_Finalize is killed.
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (!reply.ok) throw new DeviceError(`setup step ${what} failed: ${reply.message}`);
}

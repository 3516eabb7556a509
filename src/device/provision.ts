// Brings a device profile to life: finds the module, checks required tools, creates the private
// temporary directory, resolves PINs, runs the setup steps and starts the daemons they name;
// `teardown()` undoes all of it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { randomInt } from "node:crypto";
import { createInterface } from "node:readline";
import { dieWithParent, runCommand } from "./command.js";
import { makeRunDir, recordDaemons, sweepRunDirs } from "./rundir.js";
import { initToken } from "./token-init.js";
import { ROOT_DIR } from "../tool.js";
import {
  DeviceError,
  installHint,
  type DeviceProfile,
  type PinDefaults,
  type PinSource,
  type SetupStep,
  type StartStep,
} from "./model.js";
import type { WorkerDevice } from "../contract/worker.js";
import { SLOT_NAMING } from "./piv.js";

export interface Provisioned {
  device: WorkerDevice;
  env: Record<string, string>;
  /** The module found (the profile's paths or --module). */
  modulePath: string;
  /**
   * PINs settled only after the device's pre-flight (a YubiKey profile whose variable is not set):
   * `resolvePins` fills them in from the confirmed factory defaults or a prompt.
   */
  pending: ("user" | "so")[];
  resolvePins(defaults: PinDefaults): Promise<string[]>;
  teardown(): Promise<void>;
}

export interface ProvisionOptions {
  /** --module: overrides the profile's module paths. */
  modulePath?: string;
  runTag: string;
}

export async function findModule(profile: DeviceProfile, override?: string): Promise<string> {
  const candidates = override ? [override] : profile.module.paths;
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new DeviceError(
    `no PKCS#11 module for ${profile.id}: looked for ${candidates.join(", ")}${installHint(profile.module.install)}, or pass --module PATH`,
  );
}

export async function missingRequirements(profile: DeviceProfile): Promise<string[]> {
  const missing: string[] = [];
  for (const req of profile.requires) {
    const which = await runCommand("sh", ["-c", `command -v "$0"`, req.command]);
    if (which.exitCode !== 0) missing.push(`${req.command} not found${installHint(req.install)}`);
  }
  return missing;
}

export async function provision(profile: DeviceProfile, opts: ProvisionOptions): Promise<Provisioned> {
  const modulePath = await findModule(profile, opts.modulePath);
  const missing = await missingRequirements(profile);
  if (missing.length) throw new DeviceError(`${profile.id} cannot be set up: ${missing.join("; ")}`);

  const names = { user: "user PIN", so: profile.yubikey ? "management key (the SO PIN)" : "SO PIN" };
  // A YubiKey's PIN not given by its variable waits for the pre-flight: a confirmed factory default, or a prompt.
  const pending = (["user", "so"] as const).filter((who) => deferred(profile, profile.pins[who]));
  const pins: { user?: string; so?: string } = {};
  for (const who of ["user", "so"] as const)
    if (!pending.includes(who)) pins[who] = await resolvePin(profile.pins[who], names[who]);
  const secrets = [pins.user, pins.so].filter((p): p is string => !!p);
  // What runs killed before their tear-down left behind goes first (never a directory whose run is alive).
  sweepRunDirs();
  // Made once nothing before it can fail, so a refused PIN leaves no directory behind.
  const tmp = await makeRunDir(profile.id);
  // ${root}: p11compat's own directory (tools it ships, like bin/virtual-yubikey.js); ${node}: this Node.js.
  const vars: Record<string, string> = {
    tmp,
    device: profile.id,
    userPin: pins.user ?? "",
    soPin: pins.so ?? "",
    root: ROOT_DIR,
    node: process.execPath,
  };
  const env = Object.fromEntries(Object.entries(profile.env).map(([k, v]) => [k, substitute(v, vars)]));

  const daemons = new Daemons(tmp);
  const lib = {
    modulePath,
    libraryParameters: profile.libraryParameters ? substitute(profile.libraryParameters, vars) : undefined,
  };
  const teardown = async () => {
    try {
      await runSteps(profile.teardown, vars, env, secrets, daemons, lib);
    } finally {
      try {
        await daemons.stopAll();
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
  };
  try {
    await runSteps(profile.setup, vars, env, secrets, daemons, lib);
  } catch (err) {
    await teardown().catch(() => {});
    throw err;
  }
  const resolvePins = async (defaults: PinDefaults): Promise<string[]> => {
    const notes: string[] = [];
    for (const who of pending) {
      const source = profile.pins[who]!;
      const variable = typeof source === "object" && "env" in source ? source.env : undefined;
      const factory = defaults[who];
      if (factory !== undefined) {
        pins[who] = factory;
        notes.push(
          `the ${names[who]} is the factory default: the YubiKey's metadata says it was never changed${variable ? ` ($${variable} is not set)` : ""}`,
        );
        continue;
      }
      const prompt =
        source === "prompt" || (typeof source === "object" && "prompt" in source && source.prompt === true);
      const why = defaults.unconfirmed?.[who];
      if (prompt && process.stdin.isTTY) {
        pins[who] = await promptHidden(`${names[who]}: `);
        continue;
      }
      throw new DeviceError(
        `the ${names[who]} is needed: ${variable ? `set $${variable}` : "give it"}${prompt ? " (or run at a terminal to be asked)" : ""}` +
          (why
            ? `; the factory default is used only when the YubiKey confirms it is still in use, and here ${why}`
            : ""),
      );
    }
    return notes;
  };
  return {
    modulePath,
    pending,
    resolvePins,
    device: {
      modulePath,
      libraryParameters: lib.libraryParameters,
      select: profile.token,
      pins,
      tokenObjects: profile.objects === "token",
      labelPrefix: `p11compat-${opts.runTag}-`,
      keys: profile.keys && {
        ...profile.keys,
        ...(profile.keys.slots ? { names: SLOT_NAMING[profile.keys.slots] } : {}),
      },
      reinitializeAfterKeys: profile.reinitializeAfterKeys,
      throwaway: profile.throwaway,
    },
    env,
    teardown,
  };
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in vars))
      throw new DeviceError(
        `unknown variable ${whole}; known: ${Object.keys(vars)
          .map((v) => `\${${v}}`)
          .join(", ")}`,
      );
    return vars[name]!;
  });
}

const redact = (text: string, secrets: string[]) => secrets.reduce((t, s) => t.split(s).join("<redacted>"), text);

async function runSteps(
  steps: SetupStep[],
  vars: Record<string, string>,
  env: Record<string, string>,
  secrets: string[],
  daemons: Daemons,
  lib: { modulePath: string; libraryParameters?: string },
): Promise<void> {
  for (const step of steps) {
    if ("mkdir" in step) await mkdir(substitute(step.mkdir, vars), { recursive: true });
    else if ("write" in step)
      await writeFile(substitute(step.write.path, vars), substitute(step.write.content, vars), { mode: 0o600 });
    else if ("start" in step) await daemons.start(step.start, vars, env, secrets);
    else if ("stop" in step) await daemons.stop(step.stop);
    else if ("initToken" in step)
      await initToken(
        step.initToken,
        { ...lib, soPin: vars.soPin!, userPin: vars.userPin! },
        env,
        (step.initToken.timeoutSeconds ?? 60) * 1000,
      );
    else {
      const [cmd, ...args] = step.run.map((a) => substitute(a, vars));
      const shown = redact(
        step.run.map((a) => substitute(a, { ...vars, userPin: "<redacted>", soPin: "<redacted>" })).join(" "),
        secrets,
      );
      // TMPDIR: what a tool killed with p11compat leaves there (tpm2_ptool's python temp dirs) goes with the run's directory.
      const r = await runCommand(cmd!, args, {
        env: { ...process.env, TMPDIR: vars.tmp!, ...env },
        timeoutMs: (step.timeoutSeconds ?? 60) * 1000,
        tied: true,
      });
      if (r.exitCode !== 0) {
        const why = r.timedOut ? "timed out" : r.exitCode === undefined ? r.failure : `exited with ${r.exitCode}`;
        const out = redact(`${r.stderr}\n${r.stdout}`.trim(), secrets).split("\n").slice(-5).join("\n  ");
        throw new DeviceError(`setup step \`${shown}\` ${why}${out ? `:\n  ${out}` : ""}`);
      }
    }
  }
}

/** Last lines a process wrote, PINs redacted, for an error message. */
const tail = (text: string, secrets: string[]) => redact(text.trim(), secrets).split("\n").slice(-5).join("\n  ");

interface Daemon {
  name: string;
  child: ChildProcess;
  output: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  exited: Promise<void>;
}

/**
 * The daemons a profile starts. Each runs in the foreground as p11compat's child (so p11compat
 * reaps it) in a process group of its own (a Ctrl-C at the terminal, which finishes the case under
 * way, must not kill the token's daemons); on Linux setpriv --pdeathsig sends it SIGTERM if
 * p11compat itself is killed before it could tear down.
 */
class Daemons {
  private running: Daemon[] = [];

  /** `dir`: the run's directory, where the daemons' pids are kept for a sweep after a kill -9. */
  constructor(private readonly dir: string) {}

  async start(
    step: StartStep,
    vars: Record<string, string>,
    env: Record<string, string>,
    secrets: string[],
  ): Promise<void> {
    const argv = step.run.map((a) => substitute(a, vars));
    const shown = redact(
      step.run.map((a) => substitute(a, { ...vars, userPin: "<redacted>", soPin: "<redacted>" })).join(" "),
      secrets,
    );
    const wrapped = [...dieWithParent("TERM"), ...argv];
    const child = spawn(wrapped[0]!, wrapped.slice(1), {
      env: { ...process.env, TMPDIR: vars.tmp!, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const d: Daemon = { name: step.name, child, output: "", exited: undefined as unknown as Promise<void> };
    d.exited = new Promise<void>((resolve) => {
      child.on("error", (err) => {
        d.output += `\n${err.message}`;
        d.exit ??= { code: null, signal: null };
        resolve();
      });
      child.on("exit", (code, signal) => {
        d.exit = { code, signal };
        resolve();
      });
    });
    const keep = (chunk: Buffer) => (d.output = (d.output + chunk.toString()).slice(-4000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.running.push(d);
    this.record();
    const died = () => {
      const how = d.exit!.signal
        ? `was killed by ${d.exit!.signal}`
        : d.exit!.code === null
          ? "could not be started"
          : `exited with ${d.exit!.code}`;
      const out = tail(d.output, secrets);
      return new DeviceError(`daemon ${step.name} (\`${shown}\`) ${how}${out ? `:\n  ${out}` : ""}`);
    };
    // Give a daemon that fails at once (bad option, port taken) the chance to say so.
    await Promise.race([d.exited, sleep(100)]);
    if (d.exit) throw died();
    if (!step.ready) return;
    const ready = step.ready.map((a) => substitute(a, vars));
    const deadline = Date.now() + (step.readySeconds ?? 15) * 1000;
    for (;;) {
      const r = await runCommand(ready[0]!, ready.slice(1), {
        env: { ...process.env, TMPDIR: vars.tmp!, ...env },
        timeoutMs: 10_000,
        tied: true,
      });
      if (r.exitCode === 0) return;
      if (d.exit) throw died();
      const last = `${r.stderr}\n${r.stdout}`;
      if (Date.now() > deadline) {
        const out = tail(last, secrets);
        throw new DeviceError(
          `daemon ${step.name} (\`${shown}\`) was not ready within ${step.readySeconds ?? 15} s: \`${ready.join(" ")}\` kept failing${out ? `:\n  ${out}` : ""}`,
        );
      }
      await sleep(100);
    }
  }

  /** SIGTERM to the daemon's process group, SIGKILL after 5 s; resolves when it has exited. */
  async stop(name: string): Promise<void> {
    const d = this.running.find((x) => x.name === name);
    if (!d) return;
    this.running = this.running.filter((x) => x !== d);
    this.record();
    if (d.exit || d.child.pid === undefined) return;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-d.child.pid!, sig);
      } catch {
        d.child.kill(sig);
      }
    };
    signal("SIGTERM");
    if (await Promise.race([d.exited.then(() => true), sleep(5000).then(() => false)])) return;
    signal("SIGKILL");
    await d.exited;
  }

  private record(): void {
    try {
      recordDaemons(
        this.dir,
        this.running.flatMap((d) => (d.child.pid === undefined ? [] : [d.child.pid])),
      );
    } catch {
      // Only a later sweep would miss it (a profile's tear-down step may have emptied the directory).
    }
  }

  /** Every daemon still running, the last started first (it may depend on the earlier ones). */
  async stopAll(): Promise<void> {
    for (const d of [...this.running].reverse()) await this.stop(d.name);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * A PIN of a token holding keys that matter (a YubiKey, an existing token) whose variable is not set:
 * settled after the pre-flight, once the token is chosen and its PIN state read.
 */
function deferred(profile: DeviceProfile, source: PinSource | undefined): boolean {
  if (profile.throwaway || source === undefined) return false;
  if (source === "prompt") return true;
  return typeof source === "object" && "env" in source && !process.env[source.env];
}

/** PINs never reach argv of the tool itself, logs or reports; `generate` makes a throwaway one. */
async function resolvePin(source: PinSource | undefined, who: string): Promise<string | undefined> {
  if (source === undefined) return undefined;
  if (source === "generate") return String(randomInt(10_000_000, 99_999_999));
  if (typeof source === "object" && "value" in source) return source.value;
  if (typeof source === "object" && "env" in source) {
    const value = process.env[source.env];
    if (value !== undefined) return value;
    if (!source.prompt) throw new DeviceError(`the ${who} is taken from $${source.env}, which is not set`);
  }
  if (!process.stdin.isTTY)
    throw new DeviceError(`the ${who} must be typed at a prompt, but standard input is not a terminal`);
  return promptHidden(`${who}: `);
}

async function promptHidden(question: string): Promise<string> {
  // The callback interface: its _writeToOutput is where typed characters are kept off the screen
  // (readline/promises' interface has no such method, and failed here).
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = out._writeToOutput.bind(rl);
  out._writeToOutput = (s: string) => write(s.startsWith(question) ? question : "");
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}

// Brings a device profile to life: finds the module, checks required tools, creates the private
// temporary directory, resolves PINs and runs the setup steps; `teardown()` undoes all of it.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomInt } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { execa } from "execa";
import { installHint, type DeviceProfile, type PinSource, type SetupStep } from "./model.js";
import type { WorkerDevice } from "../worker/protocol.js";

export class DeviceError extends Error {}

export interface Provisioned {
  device: WorkerDevice;
  env: Record<string, string>;
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
    const which = await execa("sh", ["-c", `command -v "$0"`, req.command], { reject: false });
    if (which.exitCode !== 0) missing.push(`${req.command} not found${installHint(req.install)}`);
  }
  return missing;
}

export async function provision(profile: DeviceProfile, opts: ProvisionOptions): Promise<Provisioned> {
  const modulePath = await findModule(profile, opts.modulePath);
  const missing = await missingRequirements(profile);
  if (missing.length) throw new DeviceError(`${profile.id} cannot be set up: ${missing.join("; ")}`);

  const tmp = await mkdtemp(path.join(os.tmpdir(), `p11compat-${profile.id}-`));
  const pins = { user: await resolvePin(profile.pins.user, "user"), so: await resolvePin(profile.pins.so, "SO") };
  const secrets = [pins.user, pins.so].filter((p): p is string => !!p);
  const vars: Record<string, string> = { tmp, device: profile.id, userPin: pins.user ?? "", soPin: pins.so ?? "" };
  const env = Object.fromEntries(Object.entries(profile.env).map(([k, v]) => [k, substitute(v, vars)]));

  const teardown = async () => {
    try {
      await runSteps(profile.teardown, vars, env, secrets);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  };
  try {
    await runSteps(profile.setup, vars, env, secrets);
  } catch (err) {
    await teardown().catch(() => {});
    throw err;
  }
  return {
    device: {
      modulePath,
      libraryParameters: profile.libraryParameters ? substitute(profile.libraryParameters, vars) : undefined,
      select: profile.token,
      pins,
      tokenObjects: profile.objects === "token",
      labelPrefix: `p11compat-${opts.runTag}-`,
    },
    env,
    teardown,
  };
}

export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in vars)) throw new DeviceError(`unknown variable ${whole}; known: ${Object.keys(vars).map((v) => `\${${v}}`).join(", ")}`);
    return vars[name]!;
  });
}

const redact = (text: string, secrets: string[]) => secrets.reduce((t, s) => t.split(s).join("<redacted>"), text);

async function runSteps(steps: SetupStep[], vars: Record<string, string>, env: Record<string, string>, secrets: string[]): Promise<void> {
  for (const step of steps) {
    if ("mkdir" in step) await mkdir(substitute(step.mkdir, vars), { recursive: true });
    else if ("write" in step) await writeFile(substitute(step.write.path, vars), substitute(step.write.content, vars), { mode: 0o600 });
    else {
      const [cmd, ...args] = step.run.map((a) => substitute(a, vars));
      const shown = redact(step.run.map((a) => substitute(a, { ...vars, userPin: "<redacted>", soPin: "<redacted>" })).join(" "), secrets);
      const r = await execa(cmd!, args, { env: { ...process.env, ...env }, reject: false, timeout: (step.timeoutSeconds ?? 60) * 1000, stdin: "ignore" });
      if (r.failed) {
        const why = r.timedOut ? "timed out" : r.exitCode === undefined ? r.shortMessage : `exited with ${r.exitCode}`;
        const out = redact(`${r.stderr}\n${r.stdout}`.trim(), secrets).split("\n").slice(-5).join("\n  ");
        throw new DeviceError(`setup step \`${shown}\` ${why}${out ? `:\n  ${out}` : ""}`);
      }
    }
  }
}

/** PINs never reach argv of the tool itself, logs or reports; `generate` makes a throwaway one. */
async function resolvePin(source: PinSource | undefined, who: string): Promise<string | undefined> {
  if (source === undefined) return undefined;
  if (source === "generate") return String(randomInt(10_000_000, 99_999_999));
  if (typeof source === "object" && "value" in source) return source.value;
  if (typeof source === "object" && "env" in source) {
    const value = process.env[source.env];
    if (value === undefined) throw new DeviceError(`the ${who} PIN is taken from $${source.env}, which is not set`);
    return value;
  }
  if (!process.stdin.isTTY) throw new DeviceError(`the ${who} PIN must be typed at a prompt, but standard input is not a terminal`);
  return promptHidden(`${who} PIN: `);
}

async function promptHidden(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = out._writeToOutput.bind(rl);
  out._writeToOutput = (s: string) => write(s.startsWith(question) ? question : "");
  try {
    return await rl.question(question);
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}

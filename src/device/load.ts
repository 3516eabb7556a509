// Loads device profiles (devices/*.yaml) with errors that point at the file, line and column.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { existsSync } from "node:fs";
import {
  InputError,
  issueAt,
  loadYamlFile,
  loadYamlText,
  type InputIssue,
  type YamlSource,
} from "../input/yamlSchema.js";
import { didYouMean } from "../input/suggest.js";
import { deviceSchema } from "./schema.js";
import type { DeviceProfile } from "./model.js";

/** A profile as written (checked against deviceSchema): `device` is the id, and all but three fields are optional. */
type DeviceYaml = Partial<Omit<DeviceProfile, "id" | "file" | "timeouts">> &
  Pick<DeviceProfile, "title" | "module"> & { device: string; timeouts?: Partial<DeviceProfile["timeouts"]> };

const VARIABLES = new Set(["tmp", "device", "userPin", "soPin", "root", "node"]);

export async function listDevices(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** A profile by name (devices/NAME.yaml) or by file path. */
export async function loadDevice(selector: string, dir: string): Promise<DeviceProfile> {
  const file = /[/\\]|\.ya?ml$/.test(selector) ? selector : path.join(dir, `${selector}.yaml`);
  if (!existsSync(file)) {
    const names = (await listDevices(dir)).map((f) => path.basename(f, ".yaml"));
    throw new InputError([
      {
        file,
        line: 0,
        col: 0,
        message: `no device profile "${selector}"; available: ${names.join(", ")}${didYouMean(selector, names)}`,
      },
    ]);
  }
  return profileOf(await loadYamlFile(file, deviceSchema), file);
}

/** A profile from YAML text that is part of p11compat itself (the built-in ones): checked as a file is. */
export function deviceFromText(text: string, name: string): DeviceProfile {
  return profileOf(loadYamlText(text, name, deviceSchema), name);
}

function profileOf(src: YamlSource, file: string): DeviceProfile {
  const d = src.data as DeviceYaml;
  // ${...} in set-up steps and env must name a known variable: a typo would reach a command line.
  const issues: InputIssue[] = [];
  const check = (value: unknown, at: (string | number)[]) => {
    if (typeof value === "string") {
      for (const [, name] of value.matchAll(/\$\{(\w+)\}/g)) {
        if (!VARIABLES.has(name!))
          issues.push(
            issueAt(
              src,
              at,
              `unknown variable \${${name}}; known: ${[...VARIABLES].map((v) => `\${${v}}`).join(", ")}${didYouMean(name!, VARIABLES)}`,
            ),
          );
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => check(v, [...at, i]));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) check(v, [...at, k]);
  };
  check(d.setup, ["setup"]);
  check(d.teardown, ["teardown"]);
  check(d.env, ["env"]);
  check(d.libraryParameters, ["libraryParameters"]);
  // A command line is world-readable (ps, /proc/PID/cmdline): no PIN may be put on one.
  for (const part of ["setup", "teardown"] as const) {
    (d[part] ?? []).forEach((step, i) => {
      const argv = "run" in step ? { run: step.run } : "start" in step ? { start: step.start } : {};
      for (const [key, value] of Object.entries(argv))
        if (/\$\{(userPin|soPin)\}/.test(JSON.stringify(value)))
          issues.push(
            issueAt(
              src,
              [part, i, key],
              "a PIN on a command line is visible to every local user (ps, /proc/PID/cmdline): initialise the token with an `initToken` step (through PKCS#11), or `write` the PIN to a file in ${tmp} for the tool to read",
            ),
          );
    });
  }
  // Daemons start in set-up and stop in tear-down; a `stop` must name one that was started.
  const started = new Set<string>();
  (d.setup ?? []).forEach((step, i) => {
    if ("stop" in step)
      issues.push(
        issueAt(
          src,
          ["setup", i, "stop"],
          "`stop` belongs in teardown; daemons started in setup are stopped after the teardown steps anyway",
        ),
      );
    if (!("start" in step)) return;
    if (started.has(step.start.name))
      issues.push(
        issueAt(src, ["setup", i, "start", "name"], `a daemon named "${step.start.name}" is already started`),
      );
    started.add(step.start.name);
  });
  (d.teardown ?? []).forEach((step, i) => {
    if ("start" in step)
      issues.push(
        issueAt(
          src,
          ["teardown", i, "start"],
          "`start` belongs in setup: a daemon started in teardown would never be stopped",
        ),
      );
    if ("stop" in step && !started.has(step.stop)) {
      issues.push(
        issueAt(
          src,
          ["teardown", i, "stop"],
          `no daemon named "${step.stop}" is started in setup${started.size ? `; started: ${[...started].join(", ")}` : ""}${didYouMean(step.stop, started)}`,
        ),
      );
    }
  });
  if (d.keys?.login === "so" && !d.pins?.so)
    issues.push(issueAt(src, ["keys", "login"], "keys are made as SO, but pins.so gives no SO PIN"));
  if (d.keys?.contextLogin && !d.pins?.user)
    issues.push(
      issueAt(src, ["keys", "contextLogin"], "a context-specific login needs the user PIN, but pins.user is not given"),
    );
  if (d.yubikey) {
    // A YubiKey's PINs may be settled only after its listing (a prompt, or the detected factory default):
    // set-up steps cannot use them.
    for (const part of ["setup", "teardown", "env", "libraryParameters"] as const) {
      if (/\$\{(userPin|soPin)\}/.test(JSON.stringify(d[part] ?? ""))) {
        issues.push(
          issueAt(
            src,
            [part],
            "a YubiKey profile's PINs are settled after its pre-flight listing, so set-up cannot use ${userPin} or ${soPin}",
          ),
        );
      }
    }
    if (!d.keys?.ids)
      issues.push(issueAt(src, ["yubikey"], "a YubiKey profile needs keys.ids: the CKA_IDs (slots) its keys may take"));
  }
  if (issues.length) throw new InputError(issues);
  return {
    id: d.device,
    title: d.title,
    file,
    module: d.module,
    libraryParameters: d.libraryParameters,
    requires: d.requires ?? [],
    token: d.token ?? {},
    pins: d.pins ?? {},
    env: d.env ?? {},
    setup: d.setup ?? [],
    teardown: d.teardown ?? [],
    objects: d.objects ?? "session",
    throwaway: d.throwaway ?? false,
    reinitializeAfterKeys: d.reinitializeAfterKeys,
    workers: d.workers ?? 1,
    keys: d.keys,
    yubikey: d.yubikey,
    timeouts: { caseSeconds: d.timeouts?.caseSeconds ?? 120, startSeconds: d.timeouts?.startSeconds ?? 30 },
  };
}

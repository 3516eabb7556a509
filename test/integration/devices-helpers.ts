// Shared by the devices-*.test.ts files: a token that cannot run here fails its test with the
// install hint (CI installs every device's packages), and what a run leaves behind is observable.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { loadDevice } from "../../src/device/load.js";
import { findModule, missingRequirements } from "../../src/device/provision.js";
import type { DeviceProfile } from "../../src/device/model.js";
import { DEVICES } from "./helpers.js";

/** Files a test needs, each with the Debian package that ships it; missing ones fail with the install line. */
export function requireFiles(what: string, files: [file: string, pkg: string][], device: string): void {
  const missing = files.filter(([file]) => !existsSync(file));
  if (missing.length) {
    throw new Error(
      `${what} need ${missing.map(([f, p]) => `${f} (${p})`).join(", ")}; install them with ./scripts/install-system-deps.sh ${device}`,
    );
  }
}

/** The profile, or an error naming what to install: a missing token never skips silently. */
export async function requireDevice(name: string): Promise<DeviceProfile> {
  const profile = await loadDevice(name, DEVICES);
  const problems = await missingRequirements(profile);
  try {
    await findModule(profile);
  } catch (err) {
    problems.unshift((err as Error).message);
  }
  if (problems.length) {
    throw new Error(
      `the ${name} token cannot run on this machine: ${problems.join("; ")}. CI installs it with ./scripts/install-system-deps.sh ${name}`,
    );
  }
  return profile;
}

export interface Proc {
  pid: number;
  state: string;
  cmd: string;
}

/** Processes (zombies included) whose command line matches. */
export function processes(match: RegExp): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!;
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (match.test(cmd) || match.test(comm)) found.push({ pid: Number(entry), state, cmd: cmd || `[${comm}]` });
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/** Processes matching now that were not there before. */
export function newProcesses(before: Proc[], match: RegExp): Proc[] {
  const old = new Set(before.map((p) => p.pid));
  return processes(match).filter((p) => !old.has(p.pid));
}

/** Entries of the temporary directory with this prefix. */
export function tmpEntries(prefix: string): string[] {
  return readdirSync(os.tmpdir())
    .filter((f) => f.startsWith(prefix))
    .sort();
}

/** Whether a dotted version ("3.110", "2.7.1", Debian's "1:2.7.1-1") is at least `min`, part by part. */
export function versionAtLeast(version: string, min: string): boolean {
  const parts = (v: string) =>
    v
      .replace(/^\d+:/, "")
      .split(/[.+~-]/)
      .map((p) => Number.parseInt(p, 10) || 0);
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  return true;
}

/** The installed Debian package's version (`dpkg-query -W`), where the module's own info is too coarse. */
export function debianVersion(pkg: string): string {
  return execFileSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" }).trim();
}

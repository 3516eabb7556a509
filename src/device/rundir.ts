// The run's private temporary directory, and the sweep that removes those of runs that died (kill -9)
// before their tear-down. The directory's name holds its owner (pid and the process's start time, so
// a recycled pid is not mistaken for it); its `daemons` file the daemons the run started, by process
// group, which the sweep kills should any outlive the owner.
import { readdirSync, readFileSync, lstatSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const PREFIX = "p11compat-";
// p11compat-<profile>-pid<pid>.<start>-<random>; <start> is empty where /proc is not there.
const OWNER = /-pid(\d+)\.(\d*)-[^-]+$/;
const DAEMONS = "daemons";

/** When the process started (clock ticks since boot, /proc/PID/stat field 22); undefined if it is gone or unknown. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether the process `pid` that started at `start` (empty: not known) still runs. */
function alive(pid: number, start: string): boolean {
  if (start) return processStart(pid) === start;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates this run's directory, named after its owner (this process). */
export function makeRunDir(profile: string): Promise<string> {
  const start = processStart(process.pid) ?? "";
  return mkdtemp(path.join(os.tmpdir(), `${PREFIX}${profile}-pid${process.pid}.${start}-`));
}

/** Records the daemons started so far (each the leader of its own process group) for a later sweep. */
export function recordDaemons(dir: string, pids: number[]): void {
  const lines = pids.map((pid) => `${pid} ${processStart(pid) ?? ""}`);
  writeFileSync(path.join(dir, DAEMONS), lines.length ? `${lines.join("\n")}\n` : "", { mode: 0o600 });
}

/**
 * Removes the run directories in the temporary directory whose owner is gone, first killing the
 * daemons recorded there that still run. A directory whose owner runs is never touched, nor one of
 * another user, nor one whose name does not say its owner (made by an older p11compat). Returns the
 * directories removed.
 */
export function sweepRunDirs(tmp = os.tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = name.startsWith(PREFIX) ? OWNER.exec(name) : null;
    if (!owner || alive(Number(owner[1]), owner[2]!)) continue;
    const dir = path.join(tmp, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
      killDaemons(dir);
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another run's sweep got there first, or it is not ours to remove.
    }
  }
  return removed;
}

function killDaemons(dir: string): void {
  let text: string;
  try {
    text = readFileSync(path.join(dir, DAEMONS), "utf8");
  } catch {
    return;
  }
  for (const line of text.split("\n")) {
    const [pid, start = ""] = line.split(" ");
    if (!pid || !start || !alive(Number(pid), start)) continue;
    try {
      process.kill(-Number(pid), "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
}

// kill -9 of `p11compat run` at random points (seeded: P11COMPAT_KILL_SEED reproduces a failure): its
// workers and daemons die with it at once, and the next run removes the temporary directory it left.
import { describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmdirSync } from "node:fs";
import path from "node:path";
import { CLI, DEVICES, tmpDir } from "./helpers.js";
import { loadDevice } from "../../src/device/load.js";
import { findModule, missingRequirements } from "../../src/device/provision.js";

const SEED = Number(process.env.P11COMPAT_KILL_SEED ?? 15);

/** mulberry32: small, seedable, good enough to spread kill points. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Processes started by runs with this TMPDIR (workers inherit it; daemons and set-up commands get the run's directory below it). */
function processesOf(tmp: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      if (!env.some((v) => v === `TMPDIR=${tmp}` || v.startsWith(`TMPDIR=${tmp}/`))) continue;
      out.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim()}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(
  device: string,
  tmp: string,
  out: string,
): { exited: Promise<{ code: number | null; stderr: string }>; kill(): void } {
  const child = spawn(
    process.execPath,
    [CLI, "run", "--device", device, "--suite", "session", "--quiet", "--out", out],
    {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stderr })),
  );
  return { exited, kill: () => child.kill("SIGKILL") };
}

async function usable(device: string): Promise<boolean> {
  const profile = await loadDevice(device, DEVICES);
  const module = await findModule(profile).then(
    () => true,
    () => false,
  );
  return module && (await missingRequirements(profile)).length === 0;
}

// Kills per device and the span of a run's life they fall in (set-up, the cases, tear-down): ~25 s.
const PLAN: [device: string, kills: number, spanMs: number][] = [
  ["softhsm", 6, 1300],
  ["tpm2", 3, 3500],
  ["virtual-yubikey", 3, 2100],
];

describe(`kill -9 of the parent (seed ${SEED})`, () => {
  const next = random(SEED);
  for (const [device, kills, spanMs] of PLAN) {
    it(`${device}: nothing outlives a killed run for long, and the next run leaves no temporary directory`, async () => {
      if (!(await usable(device))) {
        console.warn(`${device} is not usable here: not tested`);
        return;
      }
      // Short: the daemons' Unix sockets live below it (at most 107 bytes for a socket's path).
      const tmp = mkdtempSync("/tmp/p11k-");
      const out = path.join(tmpDir(`kill-${device}`), "reports");
      let slowest = 0;
      let dirsLeft = 0;
      for (let i = 0; i < kills; i++) {
        // Every other kill waits for the run's directory first, so that some surely hit a set-up token.
        const afterDir = i % 2 === 0;
        const at = Math.round(next() * spanMs * (afterDir ? 0.4 : 1));
        const r = run(device, tmp, out);
        const t0 = Date.now();
        while (afterDir && !readdirSync(tmp).some((n) => n.startsWith("p11compat-")) && Date.now() - t0 < 10_000)
          await sleep(5);
        await sleep(at);
        r.kill();
        await r.exited;
        const killed = Date.now();
        let left = processesOf(tmp);
        while (left.length && Date.now() - killed < 1500) {
          await sleep(20);
          left = processesOf(tmp);
        }
        slowest = Math.max(slowest, Date.now() - killed);
        const where = { seed: SEED, kill: i, atMs: at, afterDir };
        expect({ ...where, left }).toEqual({ ...where, left: [] });
        dirsLeft = Math.max(dirsLeft, readdirSync(tmp).length);
      }
      // Some kill came after the set-up had made the directory (else this tested no sweep).
      expect(dirsLeft).toBeGreaterThan(0);
      // A run to its end: it sweeps what the killed ones left, and its own directory goes at its tear-down.
      const r = run(device, tmp, out);
      const { code, stderr } = await r.exited;
      expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
      expect(readdirSync(tmp)).toEqual([]);
      expect(processesOf(tmp)).toEqual([]);
      rmdirSync(tmp);
      console.log(
        `${device}: ${kills} kills (seed ${SEED}), up to ${dirsLeft} directories left behind and swept; the last process was gone ${slowest} ms after a kill at most`,
      );
    });
  }
});

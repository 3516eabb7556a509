// Whole-process figures for `p11compat bench`, each process started fresh and timed from spawn to exit:
//  - start-up: `node -e 0` against `p11compat --help`;
//  - the default run (`p11compat run` on a fresh SoftHSM token) with its worker's call histogram, against
//    a raw pkcs11js process (src/bench/raw.ts) making the same calls on the same kind of token.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import type { Report } from "../contract/report.js";
import type { PlannedCase } from "../suite/model.js";
import { planReplay, type ReplayPlan } from "./replay.js";

const here = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(here), "../..");
const CLI = path.join(ROOT, "bin", "p11compat.js");
// The raw process runs compiled like everything else (under jest, from dist/ too).
const RAW = here.endsWith(".ts") ? path.join(ROOT, "dist", "bench", "raw.js") : path.join(path.dirname(here), "raw.js");

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs `node ARGS` to completion: wall milliseconds from spawn to exit, and its stdout. */
function timeNode(args: string[], env: Record<string, string> = {}): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`node ${args.join(" ")} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

export interface StartupFigures {
  runs: number;
  nodeMs: number;
  helpMs: number;
  ratio: number;
}

/** Median wall of `node -e 0` and `p11compat --help`, interleaved so that load on the machine hits both alike. */
export async function measureStartup(runs: number): Promise<StartupFigures> {
  await timeNode(["-e", "0"]); // warm the file cache
  await timeNode([CLI, "--help"]);
  const node: number[] = [];
  const help: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push((await timeNode(["-e", "0"])).ms);
    help.push((await timeNode([CLI, "--help"])).ms);
  }
  const nodeMs = median(node);
  const helpMs = median(help);
  return { runs, nodeMs, helpMs, ratio: helpMs / nodeMs };
}

type Histogram = Record<string, { n: number; ms: number }>;
const KEYGEN = ["C_GenerateKey", "C_GenerateKeyPair"];

export interface DefaultRunFigures {
  /** Worker processes that ran cases (lanes, as the profile's `workers` or --workers set). */
  workers: number;
  /** Whole process, spawn to exit. */
  wallMs: number;
  /** runCases as the report dates it (startedAt to finishedAt): set-up, worker start and the cases. */
  spanMs: number;
  /** Every call of the worker, and the time inside them (the token's own time). */
  calls: number;
  tokenMs: number;
  /** Inside cases (the report's pkcs11Ms) and the harness's own work inside cases (durationMs - pkcs11Ms). */
  casesTokenMs: number;
  casesHarnessMs: number;
  keygenCalls: number;
  keygenMs: number;
  cases: number;
  slowestHarnessCase: { id: string; ms: number };
  /** (wall - key generation - start-up) / calls other than key generation; one worker only (else NaN). */
  perCallMs: number;
  /** Time inside the token's calls as a share of the workers' wall time (the process's, times workers). */
  tokenShare: number;
}

/** The workers' call histograms added up, and how many workers wrote one. */
function histogramOf(file: string): { histogram: Histogram; workers: number } {
  const h: Histogram = {};
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  for (const line of lines) {
    for (const [fn, t] of Object.entries(JSON.parse(line) as Histogram)) {
      h[fn] ??= { n: 0, ms: 0 };
      h[fn].n += t.n;
      h[fn].ms += t.ms;
    }
  }
  return { histogram: h, workers: lines.length };
}

/** One `p11compat run` process (the default suites on a fresh SoftHSM token), with its report and call histogram. */
export async function runDefault(
  startupMs: number,
  extra: string[] = [],
): Promise<{ figures: DefaultRunFigures; report: Report; histogram: Histogram }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "p11compat-bench-"));
  try {
    const stats = path.join(dir, "calls.jsonl");
    const { ms } = await timeNode([CLI, "run", "--quiet", "--out", dir, ...extra], { P11COMPAT_CALL_STATS: stats });
    const report = JSON.parse(
      readFileSync(
        path.join(
          dir,
          readdirSync(dir).find((f) => /^softhsm-.*\.json$/.test(f))!,
        ),
        "utf8",
      ),
    ) as Report;
    const { histogram, workers } = histogramOf(stats);
    const all = Object.values(histogram);
    const keygen = KEYGEN.map((fn) => histogram[fn] ?? { n: 0, ms: 0 });
    const keygenCalls = keygen.reduce((a, t) => a + t.n, 0);
    const keygenMs = keygen.reduce((a, t) => a + t.ms, 0);
    const calls = all.reduce((a, t) => a + t.n, 0);
    const tokenMs = all.reduce((a, t) => a + t.ms, 0);
    const harness = (c: Report["cases"][number]) => c.durationMs - c.pkcs11Ms;
    const slowest = report.cases.reduce((a, c) => (harness(c) > harness(a) ? c : a));
    const figures: DefaultRunFigures = {
      workers,
      wallMs: ms,
      spanMs: Date.parse(report.finishedAt ?? report.startedAt) - Date.parse(report.startedAt),
      calls,
      tokenMs,
      casesTokenMs: report.cases.reduce((a, c) => a + c.pkcs11Ms, 0),
      casesHarnessMs: report.cases.reduce((a, c) => a + harness(c), 0),
      keygenCalls,
      keygenMs,
      cases: report.cases.length,
      slowestHarnessCase: { id: slowest.id, ms: harness(slowest) },
      perCallMs: workers === 1 ? (ms - keygenMs - startupMs) / (calls - keygenCalls) : NaN,
      tokenShare: tokenMs / (ms * workers),
    };
    return { figures, report, histogram };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the default run's calls are, for the raw process: a one-worker `--trace all` run's operations and its histogram. */
export async function replayPlan(cases: PlannedCase[], modulePath: string, startupMs: number): Promise<ReplayPlan> {
  const { report, histogram } = await runDefault(startupMs, ["--trace", "all", "--workers", "1"]);
  return planReplay(
    report,
    cases,
    Object.fromEntries(Object.entries(histogram).map(([fn, t]) => [fn, t.n])),
    modulePath,
  );
}

export interface RawFigures {
  wallMs: number;
  calls: number;
  keygenCalls: number;
  keygenMs: number;
  failures: number;
  /** Functions the raw process had no representative call for (listed, not made). */
  unreplayed: Record<string, number>;
  perCallMs: number;
}

/** One raw pkcs11js process making the plan's calls. */
export async function runRaw(plan: ReplayPlan, nodeMs: number): Promise<RawFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "p11compat-bench-raw-"));
  try {
    const file = path.join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(plan));
    const { ms, stdout } = await timeNode([RAW, file]);
    const r = JSON.parse(stdout) as {
      keygenMs: number;
      calls: Record<string, number>;
      failures: number;
      unreplayed: Record<string, number>;
    };
    const calls = Object.values(r.calls).reduce((a, b) => a + b, 0);
    const keygenCalls = KEYGEN.reduce((a, fn) => a + (r.calls[fn] ?? 0), 0);
    return {
      wallMs: ms,
      calls,
      keygenCalls,
      keygenMs: r.keygenMs,
      failures: r.failures,
      unreplayed: r.unreplayed,
      perCallMs: (ms - r.keygenMs - nodeMs) / (calls - keygenCalls),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

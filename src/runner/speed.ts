// `p11compat speed`: the device set up as for a run (profile, hooks, supervised workers), the keys made
// in each worker, then each operation measured in one session and, with several, in every session at
// once (one worker process each, started together). The figures and the report come from here; the
// measuring loops are the worker's (src/worker/speed.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { DeviceProfile } from "../device/model.js";
import { provision } from "../device/provision.js";
import type { WorkerEvent } from "../contract/worker.js";
import type { LoopFigures, SpeedFigures, SpeedReport, SpeedResult } from "../contract/speed.js";
import type { LoopSamples, SpeedPlanned, SpeedSamples } from "../worker/speed.js";
import { TOOL } from "../tool.js";
import { prepareDevice } from "./preflight.js";
import { Supervisor } from "./supervisor.js";
import { reportPathFor, workerCount } from "./run.js";

export interface SpeedOptions {
  profile: DeviceProfile;
  outDir: string;
  modulePath?: string;
  /** Seconds per operation and setting (the harness's and the raw loop's rounds together). */
  seconds: number;
  /** Sessions at once (default and most: the profile's workers). */
  sessions?: number;
  mechanisms?: string[];
  /** Key generations per key type and loop on a slot token (a YubiKey); default 2. */
  keyGenerations?: number;
  serial?: string;
  allowOverwrite?: string;
  onPreflight?: (listing: string) => void;
  onNotice?: (line: string) => void;
  onEvent?: (event: WorkerEvent) => void;
  onResult?: (result: SpeedResult, done: number, total: number) => void;
}

/** Default key generations per key type on a token whose keys take flash slots. */
export const SLOT_KEY_GENERATIONS = 2;

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

/** Four significant digits (the figures are not more precise than that). */
const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : 0);

/**
 * Operations per second of one session, from its median latency: a call preempted on a busy machine
 * moves a mean (even a trimmed one, when the machine is busy enough) but not a median; the p99 shows
 * the spread.
 */
function rate(us: Float64Array): number {
  const median = quantile(Float64Array.from(us).sort(), 0.5);
  return median > 0 ? 1e6 / median : 0;
}

/** Figures of one loop over one or several sessions: their rates add up; latencies over every operation. */
export function loopFigures(loops: LoopSamples[]): LoopFigures {
  const all = Float64Array.from(loops.flatMap((l) => [...l.us])).sort();
  return {
    ops: all.length,
    errors: loops.reduce((n, l) => n + l.errors, 0),
    opsPerSecond: round(loops.reduce((a, l) => a + rate(l.us), 0)),
    latencyUs: { median: round(quantile(all, 0.5)), p99: round(quantile(all, 0.99)) },
  };
}

export function speedFigures(samples: SpeedSamples[]): SpeedFigures {
  const harness = loopFigures(samples.map((s) => s.harness));
  const raws = samples.flatMap((s) => (s.raw ? [s.raw] : []));
  const raw = raws.length ? loopFigures(raws) : undefined;
  const firstError = [...samples.map((s) => s.harness), ...raws].find((l) => l.firstError)?.firstError;
  return {
    sessions: samples.length,
    harness,
    ...(raw ? { raw } : {}),
    ...(raw && raw.opsPerSecond > 0 && harness.opsPerSecond > 0
      ? { ratio: Math.round((harness.opsPerSecond / raw.opsPerSecond) * 1000) / 1000 }
      : {}),
    ...(firstError ? { firstError } : {}),
  };
}

export async function runSpeed(opts: SpeedOptions): Promise<{ report: SpeedReport; reportPath: string }> {
  const startedAt = new Date();
  const { profile } = opts;
  const sessions = workerCount(profile, opts.sessions);
  const notes: string[] = [];
  const say = (line: string) => {
    notes.push(line);
    opts.onNotice?.(line);
  };
  if (opts.sessions !== undefined && sessions < opts.sessions)
    say(
      `${profile.id} allows ${profile.workers} worker${profile.workers === 1 ? "" : "s"} at once (its profile's workers): measuring ${sessions} session${sessions === 1 ? "" : "s"}, not ${opts.sessions}`,
    );
  const prov = await provision(profile, { modulePath: opts.modulePath, runTag: randomBytes(4).toString("hex") });
  const slotToken = !!prov.device.keys?.ids;
  const keyGenerations = slotToken ? (opts.keyGenerations ?? SLOT_KEY_GENERATIONS) : undefined;
  const supervisors: Supervisor[] = [];
  try {
    const device = await prepareDevice(profile, prov, opts);
    if (device.listing) opts.onPreflight?.(device.listing);
    for (const line of await device.beforeLogin()) say(line);
    if (slotToken)
      say(
        `${profile.id}: keys go only into this run's own free slots: at most 2 generated and 1 imported for the measurements, and at most ${keyGenerations} key generations per key type to time them (flash wear; no raw loop for key generation, which would write outside the harness's slot guard)`,
      );
    for (let i = 0; i < sessions; i++)
      supervisors.push(
        new Supervisor({
          device: prov.device,
          env: prov.env,
          caseTimeoutMs: profile.timeouts.caseSeconds * 1000,
          initTimeoutMs: profile.timeouts.startSeconds * 1000,
          onEvent: opts.onEvent,
        }),
      );
    // One after the other, as in a run (SoftHSM's file store and a concurrent C_Initialize).
    const started = [];
    for (const s of supervisors) started.push(await s.start());
    const job = { mechanisms: opts.mechanisms, keyGenerations };
    const planTimeout = profile.timeouts.caseSeconds * 1000 * 4;
    const plans: SpeedPlanned[][] = [];
    for (const s of supervisors)
      plans.push((await s.speed({ type: "speed-plan", job }, "speed-plan", planTimeout)).ops);
    const opTimeout = opts.seconds * 2000 + profile.timeouts.caseSeconds * 1000;
    const results: SpeedResult[] = [];
    const planned = plans[0]!;
    const measure = async (subset: Supervisor[], id: string) =>
      (
        await Promise.all(
          subset.map((s) => s.speed({ type: "speed", id, seconds: opts.seconds }, "speed-samples", opTimeout)),
        )
      ).map((r) => r.samples);
    for (const [i, p] of planned.entries()) {
      const { noRaw, ...rest } = p;
      void noRaw;
      const result: SpeedResult = { ...rest, figures: [] };
      if (p.status === "measured") {
        try {
          result.figures.push(speedFigures(await measure(supervisors.slice(0, 1), p.id)));
          const all = supervisors.filter((_, k) => plans[k]!.find((q) => q.id === p.id)?.status === "measured");
          if (all.length > 1) result.figures.push(speedFigures(await measure(all, p.id)));
        } catch (err) {
          Object.assign(result, { status: "error", message: (err as Error).message });
          // A worker that died takes its keys with it: a fresh one plans again for the rest.
          for (const [k, s] of supervisors.entries())
            if (!s.alive) {
              await s.start();
              plans[k] = (await s.speed({ type: "speed-plan", job }, "speed-plan", planTimeout)).ops;
            }
        }
      }
      results.push(result);
      opts.onResult?.(result, i + 1, planned.length);
    }
    const written = supervisors.flatMap((s) => [...s.written]);
    notes.push(...(await Promise.all(supervisors.map((s) => s.stop()))).flat());
    notes.push(...(await device.afterRun(written)));
    const report: SpeedReport = {
      schemaVersion: 1,
      kind: "speed",
      tool: TOOL,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      device: { profile: profile.id, title: profile.title, ...(profile.file ? { file: profile.file } : {}) },
      token: started[0]!.identity,
      settings: {
        seconds: opts.seconds,
        sessions,
        ...(opts.mechanisms?.length ? { mechanisms: opts.mechanisms } : {}),
        ...(keyGenerations !== undefined ? { keyGenerations } : {}),
      },
      notes,
      results,
    };
    mkdirSync(opts.outDir, { recursive: true });
    const reportPath = reportPathFor(opts.outDir, profile.id, startedAt, "-speed");
    writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    return { report, reportPath };
  } finally {
    for (const s of supervisors) s.kill();
    await prov.teardown();
  }
}

// One run: provision the device, split the cases into lanes (one supervised worker each, as many as
// the profile allows), write the report as results arrive, and always tear down, even when
// interrupted. The finished report lists the cases in the planned order whatever the lanes did.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { DeviceProfile } from "../device/model.js";
import { provision } from "../device/provision.js";
import type { PlannedCase } from "../suite/model.js";
import type { ClientProfile } from "../contract/report.js";
import { ReportWriter } from "../report/writer.js";
import { writeMarkdown } from "../report/markdown.js";
import type { CaseResult, Report } from "../contract/report.js";
import type { TraceMode, WorkerEvent } from "../contract/worker.js";
import { prepareDevice } from "./preflight.js";
import { Supervisor, prefetchInSpares, startSpareWorkers } from "./supervisor.js";
import { importKeys } from "../plan/prefetch.js";
import { lanes } from "../plan/lanes.js";
import { TOOL } from "../tool.js";

export interface RunOptions {
  profile: DeviceProfile;
  cases: PlannedCase[];
  suites: string[];
  /** Client profiles among the suites, by suite id: the report keeps them for `p11compat clients`. */
  clients?: Record<string, ClientProfile>;
  outDir: string;
  filter?: string;
  modulePath?: string;
  trace: TraceMode;
  /** Extra calls diagnosis may spend per failed template call (default 64; 0 turns it off). */
  diagnosisBudget?: number;
  onCase?: (result: CaseResult, done: number, total: number) => void;
  onStart?: (report: Pick<Report, "token" | "mechanisms">) => void;
  /** Stop after the current case (first Ctrl-C). */
  signal?: AbortSignal;
  /** Stop now, dropping the case under way (second Ctrl-C). */
  now?: AbortSignal;
  /** --serial and --allow-overwrite (see preflight.ts). */
  serial?: string;
  allowOverwrite?: string;
  /** --slot, --token and --allow-token-objects (see SelectionOptions). */
  slot?: string;
  token?: string;
  allowTokenObjects?: boolean;
  /** A YubiKey profile's listing, before anything else happens. */
  onPreflight?: (listing: string) => void;
  /** Things the user should know before the cases run (a factory-default PIN in use, say). */
  onNotice?: (line: string) => void;
  /** Progress, touch prompts and writes from the worker while a case runs. */
  onEvent?: (event: WorkerEvent) => void;
  /** --workers: at most this many workers at once (default: the profile's `workers`). */
  workers?: number;
}

export interface RunOutcome {
  reportPath: string;
  markdownPath: string;
  /** The finished report, as written: render from this, not from the file. */
  report: Report;
  status: Report["status"];
}

/** <device>-<UTC time><suffix>.json, with -2, -3 ... when a run of the same second already wrote one (never overwritten). */
export function reportPathFor(outDir: string, device: string, startedAt: Date, suffix = ""): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  let file = path.join(outDir, `${device}-${stamp}${suffix}.json`);
  for (let n = 2; existsSync(file); n++) file = path.join(outDir, `${device}-${stamp}-${n}${suffix}.json`);
  return file;
}

/** How many workers a run uses: --workers, never more than the profile allows. */
export function workerCount(profile: DeviceProfile, requested?: number): number {
  return Math.min(requested ?? profile.workers, profile.workers);
}

/**
 * Starts the run's worker processes before the suites are loaded, so Node.js and the worker's modules
 * load meanwhile; runCases takes them over.
 */
export function warmUpWorkers(profile: DeviceProfile, requested?: number): void {
  startSpareWorkers(workerCount(profile, requested));
}

export async function runCases(opts: RunOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  const runTag = randomBytes(4).toString("hex");
  const split = lanes(opts.cases, workerCount(opts.profile, opts.workers));
  // Each lane's worker starts on the node:crypto keys its imports need while the device is set up.
  prefetchInSpares(split.map((lane) => importKeys(lane.cases)));
  const prov = await provision(opts.profile, { modulePath: opts.modulePath, runTag });
  const supervisors: Supervisor[] = [];
  let writer: ReportWriter | undefined;
  let status: Report["status"] = "complete";
  const notes: string[] = [];
  try {
    // Which token (and on a slot token which slots): settled, read-only, before any login or write.
    const device = await prepareDevice(opts.profile, prov, opts, opts.cases);
    if (device.listing) opts.onPreflight?.(device.listing);
    const settled = await device.beforeLogin();
    for (const line of settled) opts.onNotice?.(line);
    notes.push(...settled);
    for (const lane of split) {
      supervisors.push(
        new Supervisor({
          device: prov.device,
          env: prov.env,
          caseTimeoutMs: opts.profile.timeouts.caseSeconds * 1000,
          initTimeoutMs: opts.profile.timeouts.startSeconds * 1000,
          prefetch: importKeys(lane.cases),
          onEvent: opts.onEvent,
        }),
      );
    }
    // One after the other: SoftHSM's file store, read by one process's C_Initialize while another
    // process opens its session and logs in, can show no token at all (seen 1 run in 12).
    const started = [];
    for (const s of supervisors) started.push(await s.start());
    const { identity, mechanisms } = started[0]!;
    opts.onStart?.({ token: identity, mechanisms });
    mkdirSync(opts.outDir, { recursive: true });
    const reportPath = reportPathFor(opts.outDir, opts.profile.id, startedAt);
    const w = (writer = new ReportWriter(
      reportPath,
      {
        schemaVersion: 1,
        tool: TOOL,
        startedAt: startedAt.toISOString(),
        device: { profile: opts.profile.id, title: opts.profile.title, file: opts.profile.file },
        token: identity,
        mechanisms,
      },
      {
        suites: opts.suites,
        ...(opts.clients && Object.keys(opts.clients).length ? { clients: opts.clients } : {}),
        ...(opts.profile.keys?.login === "so" ? { keyLogin: "SO" as const } : {}),
        filter: opts.filter,
        caseCount: opts.cases.length,
        keysGenerated: 0,
        workerRestarts: 0,
        notes: [],
      },
      opts.cases.map((c) => c.id),
    ));
    let done = 0;
    const caseOptions = { trace: opts.trace, diagnosisBudget: opts.diagnosisBudget ?? 64 };
    // Each lane runs its cases in order in its own worker; results go to the report as they arrive.
    const runLane = async (supervisor: Supervisor, cases: PlannedCase[]): Promise<void> => {
      for (const [k, planned] of cases.entries()) {
        if (opts.signal?.aborted) {
          status = "interrupted";
          return;
        }
        const result = await supervisor.run(planned, caseOptions, opts.now, cases[k + 1]);
        if (!result) {
          status = "interrupted";
          return;
        }
        w.append(result);
        opts.onCase?.(result, ++done, opts.cases.length);
      }
    };
    await Promise.all(split.map((lane, i) => runLane(supervisors[i]!, lane.cases)));
    const problems = (await Promise.all(supervisors.map((s) => s.stop()))).flat();
    const lost = supervisors.reduce((n, s) => n + s.lost, 0);
    if (lost && opts.profile.objects === "token") {
      problems.push(
        `${lost} worker(s) died or were killed during a case; token objects they created (CKA_LABEL starting with ${prov.device.labelPrefix}) may remain`,
      );
    }
    problems.push(...(await device.afterRun(supervisors.flatMap((s) => [...s.written]))));
    w.update({ workerRestarts: supervisors.reduce((n, s) => n + s.restarts, 0), notes: [...notes, ...problems] });
    const report = w.finish(status);
    return { reportPath, markdownPath: writeMarkdown(report, reportPath), report, status };
  } catch (err) {
    for (const s of supervisors) s.abandon();
    if (writer) {
      // The report says why it stops here, and how many workers the run went through to get there.
      writer.update({
        workerRestarts: supervisors.reduce((n, s) => n + s.restarts, 0),
        notes: [...notes, `run aborted: ${(err as Error).message}`],
      });
      writeMarkdown(writer.finish("aborted"), writer.path);
    }
    throw err;
  } finally {
    for (const s of supervisors) s.kill();
    await prov.teardown();
  }
}

// `p11compat run`: the main job.
import { fileURLToPath } from "node:url";
import { writeFileSync } from "node:fs";
import cliProgress from "cli-progress";
import { renderJunit } from "../report/junit.js";
import { loadDevice } from "../device/load.js";
import { existingTokenProfile, p11kitProfile } from "../device/builtin.js";
import { modulePathOf } from "../device/p11kit.js";
import type { DeviceProfile } from "../device/model.js";
import { loadSuites } from "../suite/load.js";
import { expandSuite } from "../suite/expand.js";
import { runCases, warmUpWorkers } from "../runner/run.js";
import { planRun } from "../runner/preflight.js";
import { summaryTable } from "../report/summary.js";
import type { TraceMode } from "../contract/worker.js";
import { ROOT } from "../tool.js";
import { UsageError } from "./output.js";
import { checkOutputFile, prepareOutputDir } from "./destinations.js";

export const SUITES_DIR = fileURLToPath(new URL("suites/", ROOT));
export const DEVICES_DIR = fileURLToPath(new URL("devices/", ROOT));

interface RunFlags extends ProfileFlags {
  suite?: string[];
  filter?: string;
  out: string;
  trace: TraceMode;
  diagnose: number;
  junit?: string;
  quiet?: boolean;
  serial?: string;
  allowOverwrite?: string;
  slot?: string;
  token?: string;
  allowTokenObjects?: boolean;
  plan?: boolean;
  workers?: number;
  maxCases: number;
}

/** How the command line names the device: a profile, a p11-kit module, or a module's existing token. */
export interface ProfileFlags {
  device?: string;
  module?: string;
  pinEnv?: string;
}

/** The profile and the module override the flags name (--module with --device overrides the profile's module). */
export async function profileFor(flags: ProfileFlags): Promise<{ profile: DeviceProfile; modulePath?: string }> {
  const modulePath = flags.module === undefined ? undefined : modulePathOf(flags.module);
  if (flags.device?.startsWith("p11-kit:")) {
    if (modulePath) throw new UsageError("--device p11-kit:NAME names the module already; leave out --module");
    return { profile: p11kitProfile(flags.device.slice("p11-kit:".length), { pinEnv: flags.pinEnv }) };
  }
  if (flags.device === undefined && modulePath)
    return { profile: existingTokenProfile(modulePath, { pinEnv: flags.pinEnv }) };
  if (flags.pinEnv)
    throw new UsageError(
      "--pin-env is for an existing token (--module without --device, or --device p11-kit:NAME); a device profile says where its PIN comes from (pins.user)",
    );
  return { profile: await loadDevice(flags.device ?? "softhsm", DEVICES_DIR), modulePath };
}

export async function runCommand(flags: RunFlags): Promise<void> {
  // Where the results go is settled first: a run that cannot write them sets no token up.
  if (!flags.plan) {
    prepareOutputDir(flags.out, "--out");
    if (flags.junit) checkOutputFile(flags.junit, "--junit");
  }
  const { profile, modulePath } = await profileFor(flags);
  const workers = flags.workers;
  if (!flags.plan) warmUpWorkers(profile, workers);
  const suites = await loadSuites(flags.suite ?? [], SUITES_DIR, { maxCases: flags.maxCases });
  if (flags.junit) checkOutputFile(flags.junit, "--junit", [profile.file, ...suites.map((s) => s.file)]);
  let cases = suites.flatMap(expandSuite);
  if (flags.filter) {
    const needle = flags.filter.toLowerCase();
    cases = cases.filter((c) => c.id.toLowerCase().includes(needle));
    if (!cases.length)
      throw new UsageError(`no case id contains "${flags.filter}"; \`p11compat suites --ids\` lists them`);
  }

  if (flags.plan) {
    const text = await planRun({
      profile,
      cases,
      suites: suites.map((s) => s.id),
      modulePath,
      serial: flags.serial,
      allowOverwrite: flags.allowOverwrite,
      slot: flags.slot,
      token: flags.token,
      allowTokenObjects: flags.allowTokenObjects,
      onPreflight: (listing) => process.stdout.write(`${listing}\n\n`),
    });
    process.stdout.write(`${text}\n`);
    return;
  }

  // First Ctrl-C: finish the case under way, clean up, write the report. Second: stop at once.
  const controller = new AbortController();
  const now = new AbortController();
  let exitCode = 130;
  const onSignal = (sig: NodeJS.Signals) => {
    exitCode = sig === "SIGTERM" ? 143 : 130;
    if (controller.signal.aborted) {
      process.stderr.write("\nstopping now: the case under way is dropped\n");
      now.abort();
      return;
    }
    process.stderr.write(
      "\ninterrupted: finishing the case under way, then cleaning up (Ctrl-C again to stop at once)\n",
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const bar =
    !flags.quiet && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: "{bar} {value}/{total} {case}", stream: process.stderr, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const log = (line: string) => !flags.quiet && process.stderr.write(`${line}\n`);
  let done = 0;
  // A line above the bar (or alone without one); touch prompts show even with --quiet: the user must act.
  const say = (line: string, always = false) => {
    if (flags.quiet && !always) return;
    if (bar) bar.update(done, { case: line });
    else process.stderr.write(`${line}\n`);
  };

  const outcome = await runCases({
    profile,
    cases,
    suites: suites.map((s) => s.id),
    clients: Object.fromEntries(suites.flatMap((s) => (s.client ? [[s.id, s.client]] : []))),
    outDir: flags.out,
    filter: flags.filter,
    modulePath,
    trace: flags.trace,
    diagnosisBudget: flags.diagnose,
    workers,
    signal: controller.signal,
    now: now.signal,
    serial: flags.serial,
    allowOverwrite: flags.allowOverwrite,
    slot: flags.slot,
    token: flags.token,
    allowTokenObjects: flags.allowTokenObjects,
    onPreflight: (listing) => log(listing),
    onNotice: (line) => log(line),
    onEvent: (event) => {
      if (event.kind === "progress") say(event.text);
      else if (event.kind === "touch") {
        if (bar) process.stderr.write("\n");
        say(`>>> ${event.text} <<<`, true);
      }
    },
    onStart: ({ token, mechanisms }) => {
      log(
        `${profile.id}: ${token.token.label} (${token.token.manufacturer} ${token.token.model}), ${token.library.description} ${token.library.version}, ${mechanisms.length} mechanisms`,
      );
      log(`running ${cases.length} cases from ${suites.length} suites`);
      bar?.start(cases.length, 0, { case: "" });
    },
    onCase: (result, n) => {
      done = n;
      bar?.update(n, { case: result.id });
    },
  });
  bar?.stop();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);

  const { report, reportPath, markdownPath } = outcome;
  if (flags.junit) writeFileSync(flags.junit, renderJunit(report));
  process.stdout.write(`\n${summaryTable(report)}\n\nreport: ${reportPath}\nsummary: ${markdownPath}\n`);
  if (outcome.status === "interrupted") process.exit(exitCode);
}

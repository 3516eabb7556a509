// Shared set-up for tests against a real SoftHSM token (created per run by the softhsm profile).
import { expect } from "@jest/globals";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadDevice } from "../../src/device/load.js";
import { loadSuites } from "../../src/suite/load.js";
import { expandSuite } from "../../src/suite/expand.js";
import { runCases, type RunOptions } from "../../src/runner/run.js";
import { readReport } from "../../src/report/read.js";
import type { DeviceProfile } from "../../src/device/model.js";
import type { Report } from "../../src/contract/report.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SUITES = path.join(ROOT, "suites");
export const DEVICES = path.join(ROOT, "devices");
export const CLI = path.join(ROOT, "bin", "p11compat.js");

// Under the run's parent directory (test/setup/global.ts removes it when the run ends).
export const tmpDir = (prefix: string) =>
  mkdtempSync(path.join(process.env.P11COMPAT_TEST_ROOT ?? os.tmpdir(), `p11compat-test-${prefix}-`));

export async function softhsm(overrides: Partial<DeviceProfile> = {}): Promise<DeviceProfile> {
  return { ...(await loadDevice("softhsm", DEVICES)), ...overrides };
}

export async function casesOf(suites: string[], filter?: (id: string) => boolean) {
  const loaded = await loadSuites(suites, SUITES);
  const cases = loaded.flatMap(expandSuite);
  return filter ? cases.filter((c) => filter(c.id)) : cases;
}

/** The client blocks of these suites, for runOn's `clients` (what `p11compat run` passes along). */
export async function clientsOf(suites: string[]): Promise<NonNullable<RunOptions["clients"]>> {
  const loaded = await loadSuites(suites, SUITES);
  return Object.fromEntries(loaded.flatMap((s) => (s.client ? [[s.id, s.client]] : [])));
}

export async function runOn(profile: DeviceProfile, cases: RunOptions["cases"], extra: Partial<RunOptions> = {}) {
  const outDir = tmpDir("out");
  const outcome = await runCases({
    profile,
    cases,
    suites: [...new Set(cases.map((c) => c.suite))],
    outDir,
    trace: "failed",
    ...extra,
  });
  // The report the run hands back is the file it wrote, and that file passes the report schema.
  expect(JSON.parse(JSON.stringify(outcome.report))).toEqual(readReport(outcome.reportPath));
  return { ...outcome, outDir };
}

/** A case of a report by id; a missing case fails the test with its id. */
export function caseIn(report: { cases: Report["cases"] }, id: string): Report["cases"][number] {
  const c = report.cases.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
}

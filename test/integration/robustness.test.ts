// A crashing or hanging module costs one case; a killed or interrupted run leaves a valid report.
import { afterEach, describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CLI, ROOT, casesOf, runOn, softhsm, tmpDir } from "./helpers.js";
import { readReport } from "../../src/report/read.js";

afterEach(() => {
  delete process.env.P11COMPAT_TEST_CRASH_ON;
  delete process.env.P11COMPAT_TEST_HANG_ON;
});

describe("worker isolation on SoftHSM", () => {
  it("records a module crash as an error on that case and goes on with a fresh worker", async () => {
    const cases = await casesOf(["digest"]);
    const victim = cases[3]!.id;
    process.env.P11COMPAT_TEST_CRASH_ON = victim;
    const { report } = await runOn(await softhsm(), cases);
    const crashed = report.cases.find((c) => c.id === victim)!;
    expect(crashed.outcome).toBe("error");
    expect(crashed.message).toMatch(/worker process killed by SIGSEGV/);
    const others = report.cases.filter((c) => c.id !== victim);
    expect(others.map((c) => c.outcome)).toEqual(others.map(() => "pass"));
    expect(report.run.workerRestarts).toBe(1);
    expect(report.status).toBe("complete");
  });

  it("records a hang as an error after the case time-out and goes on", async () => {
    const cases = await casesOf(["session"]);
    const victim = cases[0]!.id;
    process.env.P11COMPAT_TEST_HANG_ON = victim;
    const profile = await softhsm();
    const { report } = await runOn({ ...profile, timeouts: { ...profile.timeouts, caseSeconds: 2 } }, cases);
    const hung = report.cases.find((c) => c.id === victim)!;
    expect(hung.outcome).toBe("error");
    expect(hung.message).toMatch(/no answer within 2 s/);
    expect(hung.durationMs).toBeGreaterThanOrEqual(1900);
    expect(report.cases.filter((c) => c.id !== victim).every((c) => c.outcome === "pass")).toBe(true);
  });
});

const softhsmDirs = () => readdirSync(os.tmpdir()).filter((d) => d.startsWith("p11compat-softhsm-"));

async function waitForCases(dir: string, count: number, timeoutMs = 60_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith(".json")) : undefined;
    if (file) {
      try {
        const r = readReport(path.join(dir, file));
        if (r.cases.length >= count) return path.join(dir, file);
      } catch {
        /* a read can straddle a write under way (old trailer, then new bytes): read again */
      }
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`no report with ${count} cases in ${dir}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("interrupted runs", () => {
  it("leaves a valid report of every finished case when the process is killed", async () => {
    const out = tmpDir("killed");
    const before = softhsmDirs();
    const child = execa("node", [CLI, "run", "--suite", "sign", "--out", out, "--quiet"], { cwd: ROOT, reject: false });
    const file = await waitForCases(out, 15);
    child.kill("SIGKILL");
    await child;
    // A killed run cannot tear down: its token directory is left, and removed here.
    for (const d of softhsmDirs().filter((x) => !before.includes(x)))
      rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
    const report = JSON.parse(readFileSync(file, "utf8"));
    expect(report.status).toBe("running");
    expect(report.cases.length).toBeGreaterThanOrEqual(15);
    expect(
      report.summary.pass +
        report.summary.fail +
        report.summary.unsupported +
        report.summary.skipped +
        report.summary.error,
    ).toBe(report.cases.length);
    const summary = await execa("node", [CLI, "summary", file], { cwd: ROOT });
    expect(summary.stdout).toContain("run running");
    expect(existsSync(file.replace(/\.json$/, ".md"))).toBe(true);
  }, 120_000);

  it("finishes the report as interrupted on SIGINT and exits 130", async () => {
    const out = tmpDir("sigint");
    const child = execa("node", [CLI, "run", "--suite", "sign", "--out", out, "--quiet"], { cwd: ROOT, reject: false });
    const file = await waitForCases(out, 5);
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    const report = readReport(file);
    expect(report.status).toBe("interrupted");
    expect(report.finishedAt).not.toBeNull();
    expect(readFileSync(file.replace(/\.json$/, ".md"), "utf8")).toContain("**Run interrupted**");
  }, 120_000);
});

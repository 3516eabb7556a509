// `p11compat bench`: per-operation overhead against raw pkcs11js, and the share of a full run spent in PKCS#11.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadDevice } from "../device/load.js";
import { loadSuites } from "../suite/load.js";
import { expandSuite } from "../suite/expand.js";
import { runCases } from "../runner/run.js";
import { readReport } from "../report/writer.js";
import { measureOperations } from "../bench/overhead.js";
import { DEVICES_DIR, SUITES_DIR } from "./run.js";

const f = (n: number, d = 1) => n.toFixed(d);

export async function benchCommand(flags: { iterations: string; suites: boolean }): Promise<void> {
  const profile = await loadDevice("softhsm", DEVICES_DIR);
  const iterations = Number(flags.iterations);
  const out = (line = "") => process.stdout.write(`${line}\n`);

  out(`Per operation on SoftHSM, median of ${iterations} interleaved iterations (microseconds):`);
  out("");
  out("| operation | raw pkcs11js | through the harness | harness overhead | whole case incl. node:crypto check |");
  out("|---|---:|---:|---:|---:|");
  for (const m of await measureOperations(profile, iterations)) {
    out(`| ${m.op} | ${f(m.rawUs)} | ${f(m.harnessUs)} | ${f(m.overheadPct)} % | ${m.caseUs === undefined ? "" : f(m.caseUs)} |`);
  }
  if (!flags.suites) return;

  const suites = await loadSuites([], SUITES_DIR);
  const cases = suites.flatMap(expandSuite);
  const dir = mkdtempSync(path.join(os.tmpdir(), "p11compat-bench-"));
  try {
    const t0 = performance.now();
    const { reportPath } = await runCases({ profile, cases, suites: suites.map((s) => s.id), outDir: dir, trace: "none" });
    const wall = performance.now() - t0;
    const report = readReport(reportPath);
    const inPkcs11 = report.cases.reduce((n, c) => n + c.pkcs11Ms, 0);
    const inCases = report.cases.reduce((n, c) => n + c.durationMs, 0);
    const keygen = report.cases.filter((c) => c.keysGenerated > 0).reduce((n, c) => n + c.pkcs11Ms, 0);
    out("");
    out(`Default suites (${report.cases.length} cases, ${report.run.keysGenerated} keys generated):`);
    out(`- wall time ${f(wall / 1000, 2)} s, of which ${f(inPkcs11 / 1000, 2)} s inside PKCS#11 calls (${f((inPkcs11 / wall) * 100)} %)`);
    out(`- inside the worker: cases ${f(inCases / 1000, 2)} s, harness work in them ${f((inCases - inPkcs11) / 1000, 2)} s (${f(((inCases - inPkcs11) / inPkcs11) * 100)} % of the PKCS#11 time)`);
    out(`- key generation accounts for ${f(keygen / 1000, 2)} s of the PKCS#11 time; the rest is set-up, process start, IPC and report writing`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

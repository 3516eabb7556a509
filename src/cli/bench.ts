// `p11compat bench`: per-operation overhead against raw pkcs11js, and the share of a full run spent in PKCS#11.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadDevice } from "../device/load.js";
import { loadSuites } from "../suite/load.js";
import { expandSuite } from "../suite/expand.js";
import { runCases } from "../runner/run.js";
import { measureOperations } from "../bench/overhead.js";
import { DEVICES_DIR, SUITES_DIR } from "./run.js";

const f = (n: number, d = 1) => n.toFixed(d);

export async function benchCommand(flags: { iterations: string; runs: string; suites: boolean }): Promise<void> {
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
  const runs = Number(flags.runs);
  out("");
  out(`Default suites, ${cases.length} cases, ${runs} runs (seconds):`);
  out("");
  out("| run | wall | in PKCS#11 calls | share of wall | harness work inside cases | vs PKCS#11 time | keys generated | slowest harness case |");
  out("|---|---:|---:|---:|---:|---:|---:|---|");
  const ratios: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "p11compat-bench-"));
    try {
      const t0 = performance.now();
      const { report } = await runCases({ profile, cases, suites: suites.map((s) => s.id), outDir: dir, trace: "none" });
      const wall = (performance.now() - t0) / 1000;
      const inPkcs11 = report.cases.reduce((n, c) => n + c.pkcs11Ms, 0) / 1000;
      const harness = report.cases.reduce((n, c) => n + c.durationMs - c.pkcs11Ms, 0) / 1000;
      const slowest = report.cases.reduce((a, c) => (c.durationMs - c.pkcs11Ms > a.durationMs - a.pkcs11Ms ? c : a));
      ratios.push(harness / inPkcs11);
      out(
        `| ${i} | ${f(wall, 2)} | ${f(inPkcs11, 2)} | ${f((inPkcs11 / wall) * 100)} % | ${f(harness, 2)} | ${f((harness / inPkcs11) * 100)} % | ${report.run.keysGenerated} | ${slowest.id} ${f(slowest.durationMs - slowest.pkcs11Ms, 0)} ms |`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  out("");
  out(`Median harness work inside cases: ${f(sorted[sorted.length >> 1]! * 100)} % of the time spent in PKCS#11 calls.`);
  out("Wall time outside cases is set-up (token creation), worker start and report writing.");
}

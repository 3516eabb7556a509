// `p11compat bench`: per-operation overhead against raw pkcs11js; start-up against bare Node.js; and the
// default run as a whole process (also with one worker) against a raw pkcs11js process making the same
// calls, with the share of its wall time spent inside the token's calls.
import { loadDevice } from "../device/load.js";
import { findModule } from "../device/provision.js";
import { loadSuites } from "../suite/load.js";
import { expandSuite } from "../suite/expand.js";
import { measureOperations, type OpFigure } from "../bench/overhead.js";
import {
  measureStartup,
  median,
  replayPlan,
  runDefault,
  runRaw,
  type DefaultRunFigures,
  type RawFigures,
  type StartupFigures,
} from "../bench/process.js";
import { DEVICES_DIR, SUITES_DIR } from "./run.js";

const f = (n: number, d = 1) => n.toFixed(d);
const pct = (x: number) => `${f(x * 100)} %`;

interface BenchFlags {
  iterations: number;
  runs: number;
  startupRuns: number;
  suites: boolean;
  json?: boolean;
}

interface WholeRun {
  cases: number;
  /** Calls the raw process makes (a one-worker default run's, counted by its worker). */
  calls: number;
  /** The default run as it is (as many workers as the profile has), and with one worker, as the raw process. */
  runs: DefaultRunFigures[];
  serial: DefaultRunFigures[];
  raw: RawFigures[];
  median: {
    wallMs: number;
    tokenShare: number;
    serialWallMs: number;
    perCallMs: number;
    rawPerCallMs: number;
    ratio: number;
    serialTokenShare: number;
    serialSpanShare: number;
    rawWallMs: number;
  };
}

export async function benchCommand(flags: BenchFlags): Promise<void> {
  const { iterations, runs, startupRuns } = flags;
  const profile = await loadDevice("softhsm", DEVICES_DIR);
  const text = !flags.json;
  const out = (line = "") => text && process.stdout.write(`${line}\n`);

  const ops: OpFigure[] = await measureOperations(profile, iterations);
  out(`Per operation on SoftHSM, median of ${iterations} interleaved iterations (microseconds):`);
  out("");
  out("| operation | raw pkcs11js | through the harness | harness overhead | whole case incl. node:crypto check |");
  out("|---|---:|---:|---:|---:|");
  for (const m of ops)
    out(
      `| ${m.op} | ${f(m.rawUs)} | ${f(m.harnessUs)} | ${f(m.overheadPct)} % | ${m.caseUs === undefined ? "" : f(m.caseUs)} |`,
    );

  const startup: StartupFigures = await measureStartup(startupRuns);
  out("");
  out(
    `Start-up, median wall of ${startupRuns} interleaved runs of each: node -e 0 ${f(startup.nodeMs)} ms, p11compat --help ${f(startup.helpMs)} ms (${f(startup.ratio, 2)}x).`,
  );

  let whole: WholeRun | undefined;
  if (flags.suites) {
    const suites = await loadSuites([], SUITES_DIR);
    const cases = suites.flatMap(expandSuite);
    // One run with every trace kept gives the calls' mechanisms, keys and lengths for the raw process.
    const plan = await replayPlan(cases, await findModule(profile), startup.helpMs);
    const calls = Object.values(plan.histogram).reduce((a, b) => a + b, 0);
    const fig: DefaultRunFigures[] = [];
    const serial: DefaultRunFigures[] = [];
    const raw: RawFigures[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, like the start-up: load from elsewhere on the machine hits every variant alike.
      fig.push((await runDefault(startup.helpMs)).figures);
      serial.push((await runDefault(startup.helpMs, ["--workers", "1"])).figures);
      raw.push(await runRaw(plan, startup.nodeMs));
    }
    const perCallMs = median(serial.map((r) => r.perCallMs));
    const rawPerCallMs = median(raw.map((r) => r.perCallMs));
    whole = {
      cases: cases.length,
      calls,
      runs: fig,
      serial,
      raw,
      median: {
        wallMs: median(fig.map((r) => r.wallMs)),
        tokenShare: median(fig.map((r) => r.tokenShare)),
        serialWallMs: median(serial.map((r) => r.wallMs)),
        perCallMs,
        rawPerCallMs,
        ratio: perCallMs / rawPerCallMs,
        serialTokenShare: median(serial.map((r) => r.tokenShare)),
        serialSpanShare: median(serial.map((r) => r.casesTokenMs / r.spanMs)),
        rawWallMs: median(raw.map((r) => r.wallMs)),
      },
    };
    const workers = fig[0]?.workers ?? 1;
    out("");
    out(
      `The default run (p11compat run: ${cases.length} cases on a fresh SoftHSM token, ${workers} worker${workers === 1 ? "" : "s"}), the same with --workers 1,`,
    );
    out(
      `and a raw pkcs11js process making the one-worker run's ${calls} calls on a fresh SoftHSM token; ${runs} runs each, interleaved.`,
    );
    out(
      "Per call: (wall - key generation - start-up) / calls other than key generation, start-up being p11compat --help or",
    );
    out("node -e 0 (one worker only). Share: time inside the token's calls over wall time x workers. Milliseconds:");
    out("");
    out(
      "| run | workers | wall | key generation | per call | in the token's calls | share | harness inside cases | slowest harness case |",
    );
    out("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    const row = (name: string, r: DefaultRunFigures) =>
      out(
        `| ${name} | ${r.workers} | ${f(r.wallMs, 0)} | ${f(r.keygenMs, 0)} (${r.keygenCalls}) | ${Number.isNaN(r.perCallMs) ? "" : f(r.perCallMs, 3)} | ${f(r.tokenMs, 0)} | ${pct(r.tokenShare)} | ${f(r.casesHarnessMs, 0)} | ${r.slowestHarnessCase.id} ${f(r.slowestHarnessCase.ms, 0)} |`,
      );
    for (let i = 0; i < runs; i++) {
      row(`p11compat ${i + 1}`, fig[i]!);
      row(`--workers 1 ${i + 1}`, serial[i]!);
      const w = raw[i]!;
      out(
        `| raw ${i + 1} | 1 | ${f(w.wallMs, 0)} | ${f(w.keygenMs, 0)} (${w.keygenCalls}) | ${f(w.perCallMs, 3)} | | | | |`,
      );
    }
    const m = whole.median;
    out("");
    out(
      `Medians: the default run ${f(m.wallMs, 0)} ms, ${pct(m.tokenShare)} of its workers' time inside the token's calls (goal: 85 %).`,
    );
    out(
      `One worker: ${f(m.serialWallMs, 0)} ms; per call ${f(m.perCallMs, 3)} ms through p11compat, ${f(m.rawPerCallMs, 3)} ms raw (${f(m.ratio, 2)}x; goal: within 2x);`,
    );
    out(
      `${pct(m.serialTokenShare)} of its wall time inside the token's calls, ${pct(m.serialSpanShare)} of the run itself (the cases' PKCS#11 time over the`,
    );
    out("report's startedAt..finishedAt, as earlier benchmarks measured).");
    const unreplayed = Object.entries(raw[0]?.unreplayed ?? {});
    if (unreplayed.length)
      out(
        `Not made by the raw process (no representative call): ${unreplayed.map(([fn, n]) => `${fn} x${n}`).join(", ")}.`,
      );
    out(
      `Failed calls: ${plan.failedInRun} among the run's replayed operations, ${raw[0]?.failures ?? 0} in the raw process (a token answer, not a harness cost).`,
    );
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ operations: ops, startup, defaultRun: whole }, null, 2)}\n`);
}

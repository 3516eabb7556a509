// The hostile-input corpus (test/fixtures/hostile/corpus.json): every malformed suite, device profile,
// report, CLI flag and module path there gets its own clear error (at file:line:col where it has one),
// never a stack trace, within a time bound. Loads run in-process; command lines through the built CLI.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, DEVICES, ROOT, tmpDir } from "./helpers.js";
import { InputError } from "../../src/input/yamlSchema.js";
import { loadSuiteFile } from "../../src/suite/load.js";
import { loadDevice } from "../../src/device/load.js";
import { readReport, ReportFileError } from "../../src/report/read.js";

const HOSTILE = path.join(ROOT, "test/fixtures/hostile");

/** One row of the table: a file to load (`input`, with `at` = line:col when it has one), or a command line (`args`). */
interface Row {
  input?: string;
  at?: string;
  args?: string[];
  /** A regular expression the error's first line must match; ${tmp} and ${root} stand for those directories. */
  error: string;
}
const rows = JSON.parse(readFileSync(path.join(HOSTILE, "corpus.json"), "utf8")) as Row[];
const loads = rows.filter((r) => r.input !== undefined);
const commands = rows.filter((r) => r.args !== undefined);

/** Time bounds on two busy cores: a load parses one small file; a command starts Node.js (and some a token). */
const LOAD_MS = 3_000;
const COMMAND_MS = 20_000;
const STACK = /^\s+at .+[:(]\d+/m;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const pattern = (row: Row, tmp = "") =>
  new RegExp(row.error.replaceAll("${tmp}", escape(tmp)).replaceAll("${root}", escape(ROOT.replace(/\/$/, ""))));

function load(input: string): Promise<unknown> {
  const file = path.join(HOSTILE, input);
  if (input.startsWith("suites/")) return loadSuiteFile(file);
  if (input.startsWith("devices/")) return loadDevice(file, DEVICES);
  return Promise.resolve().then(() => readReport(file));
}

describe("the hostile-input corpus", () => {
  it("holds at least 100 inputs, each file in the table and each entry's file present", () => {
    expect(rows.length).toBeGreaterThanOrEqual(100);
    const files = ["suites", "devices", "reports"].flatMap((d) =>
      readdirSync(path.join(HOSTILE, d)).map((f) => `${d}/${f}`),
    );
    const used = new Set([...loads.map((r) => r.input), ...commands.flatMap((r) => r.args!)]);
    expect(files.filter((f) => !used.has(f))).toEqual([]);
    expect(loads.map((r) => r.input).filter((f) => !files.includes(f!))).toEqual([]);
  });

  it.each(loads.map((r) => [r.input!, r] as const))("%s: a clear error at its place, in time", async (input, row) => {
    const file = path.join(HOSTILE, input);
    const t0 = performance.now();
    const err = await load(input).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = performance.now() - t0;
    // The error classes the CLI prints as one plain message (never "internal error").
    expect(err instanceof InputError || err instanceof ReportFileError).toBe(true);
    const message = (err as Error).message;
    expect(message).not.toMatch(STACK);
    const first = message.split("\n")[0]!;
    // `at` is line:col, or a pattern where the column depends on the stack (a nesting limit).
    const where = row.at === undefined ? escape(file) : `${escape(file)}:${row.at}: `;
    expect(first).toMatch(new RegExp(`^${where}${pattern(row).source}`));
    expect(ms).toBeLessThan(LOAD_MS);
  });

  // Every command line first, four at a time (each is mostly Node.js starting; a few set a SoftHSM
  // token up), then one test each on what it gave.
  const tmp = tmpDir("hostile");
  const results = new Map<Row, { code: number | null; stderr: string; ms: number; left: string[] }>();
  beforeAll(async () => {
    writeFileSync(path.join(tmp, "file"), "");
    mkdirSync(path.join(tmp, "dir"));
    writeFileSync(path.join(tmp, "huge.yaml"), "a".repeat(17_000_000));
    writeFileSync(
      path.join(tmp, "valid.yaml"),
      "suite: valid\ncases:\n  - id: g\n    steps: [ { op: random, length: 1 } ]\n",
    );
    const queue = [...commands];
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) results.set(row, await invoke(row));
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }, COMMAND_MS * commands.length);

  async function invoke(row: Row) {
    // TMPDIR of its own: whatever a run sets up there must be gone when it exits.
    const own = path.join(tmp, `tmp-${commands.indexOf(row)}`);
    mkdirSync(own);
    const args = row.args!.map((a) => a.replaceAll("${tmp}", tmp).replaceAll("${root}", ROOT.replace(/\/$/, "")));
    const t0 = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: HOSTILE, env: { ...process.env, TMPDIR: own }, timeout: COMMAND_MS * 2 },
        (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    return { code, stderr, ms: performance.now() - t0, left: readdirSync(own) };
  }

  it.each(commands.map((r) => [r.args!.join(" "), r] as const))(
    "p11compat %s: one clear line, exit 1, no temporary directory left, in time",
    (_name, row) => {
      const { code, stderr, ms, left } = results.get(row)!;
      expect(stderr).not.toMatch(/internal error/);
      expect(stderr).not.toMatch(STACK);
      expect(stderr.split("\n")[0]).toMatch(pattern(row, tmp));
      expect(code).toBe(1);
      expect(left).toEqual([]);
      expect(ms).toBeLessThan(COMMAND_MS);
    },
  );
});

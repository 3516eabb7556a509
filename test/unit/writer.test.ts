import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ReportWriter } from "../../src/report/writer.js";
import { readReport } from "../../src/report/read.js";
import type { CaseResult } from "../../src/contract/report.js";
import { summaryTable } from "../../src/report/summary.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { tmpDir } from "../integration/helpers.js";
import { caseResult, header as header_ } from "../fixtures/reports.js";

const header = header_();

const result = (id: string, outcome: CaseResult["outcome"], message = "ok"): CaseResult =>
  caseResult(id, outcome, {
    message,
    keysGenerated: outcome === "pass" ? 1 : 0,
    ...(outcome === "fail" ? { function: "C_Sign", ckr: { name: "CKR_FUNCTION_FAILED", code: 6 } } : {}),
  });

describe("ReportWriter", () => {
  it("keeps the file valid JSON after every append and after finishing", () => {
    const file = path.join(tmpDir("writer"), "r.json");
    const w = new ReportWriter(file, header, {
      suites: ["a"],
      caseCount: 3,
      keysGenerated: 0,
      workerRestarts: 0,
      notes: [],
    });
    expect(readReport(file).cases).toEqual([]);
    expect(readReport(file).status).toBe("running");
    const outcomes = ["pass", "fail", "unsupported"] as const;
    outcomes.forEach((o, i) => {
      w.append(result(`a/c${i}`, o, `message with "quotes" and | pipes ${i}`));
      const r = readReport(file);
      expect(r.cases).toHaveLength(i + 1);
      expect(r.cases[i]!.outcome).toBe(o);
      expect(r.summary[o]).toBe(1);
    });
    w.update({ workerRestarts: 2, notes: ["a note"] });
    const finished = w.finish("complete");
    const r = readReport(file);
    // What finish returns is what it wrote: renderers take it, nobody reads the file again.
    expect(JSON.parse(JSON.stringify(finished))).toEqual(r);
    expect(r.advertised).toEqual({ findings: [], unstable: [], notExercised: [] });
    expect(r.status).toBe("complete");
    expect(r.finishedAt).not.toBeNull();
    expect(r.run).toMatchObject({ workerRestarts: 2, notes: ["a note"], keysGenerated: 1 });
    expect(r.summary).toEqual({ pass: 1, fail: 1, unsupported: 1, skipped: 0, error: 0 });
    expect(readFileSync(file, "utf8").endsWith("}\n")).toBe(true);
  });

  it("shrinks the trailer without leaving stray bytes", () => {
    const file = path.join(tmpDir("writer"), "r.json");
    const w = new ReportWriter(file, header, {
      suites: [],
      caseCount: 0,
      keysGenerated: 0,
      workerRestarts: 0,
      notes: ["a long note ".repeat(20)],
    });
    w.update({ notes: [] });
    expect(readReport(file).run.notes).toEqual([]);
    w.finish("interrupted");
    expect(readReport(file).status).toBe("interrupted");
  });

  it("renders the summary table and Markdown from a report", () => {
    const file = path.join(tmpDir("writer"), "r.json");
    const w = new ReportWriter(file, header, {
      suites: ["a", "b"],
      caseCount: 4,
      keysGenerated: 0,
      workerRestarts: 0,
      notes: [],
    });
    w.append(result("a/x", "pass"));
    w.append(result("a/y", "fail", "C_Sign returned CKR_FUNCTION_FAILED (0x06)"));
    w.append(result("b/z", "unsupported", "not offered"));
    const r = w.finish("complete");
    const table = summaryTable(r);
    expect(table).toMatch(/^suite\s+pass\s+fail\s+unsupported\s+skipped\s+error\s+total$/m);
    expect(table).toMatch(/^a\s+1\s+1\s+0\s+0\s+0\s+2$/m);
    expect(table).toMatch(/^total\s+1\s+1\s+1\s+0\s+0\s+3$/m);
    const md = renderMarkdown(r);
    expect(md).toContain("## Failures (1)");
    expect(md).toContain("| `a/y` | fail | C_Sign returned CKR_FUNCTION_FAILED (0x06) |");
    expect(md).toContain("## Unsupported (1)");
    expect(md).toContain("| not offered | 1: `b/z` |");
    expect(md).not.toContain("Run complete");
  });
});

describe("readReport", () => {
  it("refuses a report whose cases are not what p11compat writes, before any renderer embeds them", () => {
    const dir = tmpDir("hostile");
    const file = path.join(dir, "r.json");
    const w = new ReportWriter(file, header, {
      suites: ["a"],
      caseCount: 1,
      keysGenerated: 0,
      workerRestarts: 0,
      notes: [],
    });
    w.append(result("a/x", "pass"));
    w.finish("complete");
    const hostile = JSON.parse(readFileSync(file, "utf8"));
    hostile.cases[0].outcome = 'fail" autofocus onfocus="alert(1)" x="';
    writeFileSync(file, JSON.stringify(hostile));
    expect(() => readReport(file)).toThrow(
      `${file}: cases/0/outcome: must be one of: pass, fail, unsupported, skipped, error, got string 'fail" autofocus onfocus="alert(1)" x="'`,
    );
    writeFileSync(file, "{");
    expect(() => readReport(file)).toThrow(/not readable as JSON/);
  });
});

describe("ReportWriter.finish", () => {
  it("adds the advertised-versus-actual analysis, writes the file once whole, and returns the report", () => {
    const dir = tmpDir("writer");
    const file = path.join(dir, "r.json");
    const mechanisms = [{ code: 0x250, name: "CKM_SHA256", minKeySize: 0, maxKeySize: 0, flags: 0x400 }];
    const w = new ReportWriter(
      file,
      { ...header, mechanisms },
      { suites: ["a"], caseCount: 2, keysGenerated: 0, workerRestarts: 0, notes: [] },
    );
    w.append(result("a/x", "pass"));
    w.append({ ...result("a/y", "fail"), uses: [{ mechanism: "CKM_SHA256", op: "digest" }], mechanism: "CKM_SHA256" });
    const r = w.finish("complete");
    expect(r.advertised!.findings.map((f) => f.kind)).toEqual(["advertised-but-failing", "flag-not-working"]);
    expect(readReport(file).advertised).toEqual(r.advertised);
    // The finished file keeps one case per line, cases last; no temporary file is left behind.
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines[1]).toBe(JSON.stringify(r.cases[0]) + ",");
    expect(lines.at(-2)).toBe("]}");
    expect(readdirSync(dir)).toEqual(["r.json"]);
    // A second finish (the run's error path after a finished run) is the same report, not a rewrite.
    expect(w.finish("aborted")).toBe(r);
    expect(readReport(file).status).toBe("complete");
    expect(() => w.update({ notes: ["late"] })).toThrow(/is finished/);
  });
});

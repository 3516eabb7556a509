// schema/report.schema.json: generated from the contract's types, and what every committed report is checked against.
import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateReportSchema, REPORT_SCHEMA_FILE } from "../../src/report/schema.js";
import { checkReport, readReport, ReportFileError } from "../../src/report/read.js";
import { ROOT, tmpDir } from "../integration/helpers.js";

const REFERENCE = path.join(ROOT, "reports", "reference");
// reports/reference/clients.json is the clients verdict grid (p11compat clients --format json), not a report.
const references = [
  ...readdirSync(REFERENCE)
    .filter((f) => f.endsWith(".json") && f !== "clients.json")
    .map((f) => path.join(REFERENCE, f)),
  ...readdirSync(path.join(REFERENCE, "clients"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => path.join(REFERENCE, "clients", f)),
];
const softhsm = () => JSON.parse(readFileSync(path.join(REFERENCE, "softhsm.json"), "utf8"));
const messageOf = (data: unknown) => {
  try {
    checkReport(data, "r.json");
  } catch (err) {
    expect(err).toBeInstanceOf(ReportFileError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("schema/report.schema.json", () => {
  it("is what the types in src/contract/report.ts generate (npm run schema rewrites it)", async () => {
    expect(readFileSync(REPORT_SCHEMA_FILE, "utf8")).toBe(await generateReportSchema());
  }, 30_000);

  it("accepts every committed reference report", () => {
    expect(references.length).toBeGreaterThanOrEqual(35);
    for (const file of references) expect(readReport(file).schemaVersion).toBe(1);
  });

  it("names the field at fault by JSON pointer and says what is allowed", () => {
    const r = softhsm();
    r.cases[3].outcome = "passed";
    delete r.cases[5].message;
    r.cases[7].durationMs = "12";
    r.token.token.serial = 7;
    r.cases[9].extra = 1;
    expect(messageOf(r).split("\n")).toEqual([
      "r.json: token/token/serial: must be a string, got number 7",
      "r.json: cases/3/outcome: must be one of: pass, fail, unsupported, skipped, error, got string 'passed'; did you mean 'pass'?",
      "r.json: cases/5: missing required property 'message'",
      "r.json: cases/7/durationMs: must be a number, got string '12'",
      expect.stringMatching(
        /^r\.json: cases\/9\/extra: unknown property 'extra' \(allowed: id, suite, title, params, /,
      ),
    ]);
  });

  it("says so when a file is not a report at all, or of another schemaVersion", () => {
    expect(messageOf([1])).toBe(
      "r.json is not a p11compat report: a JSON object with schemaVersion 1 was expected, got an array",
    );
    expect(messageOf({ cases: [] })).toBe("r.json is not a p11compat report (it has no schemaVersion)");
    expect(messageOf({ ...softhsm(), schemaVersion: 2 })).toBe(
      "r.json: schemaVersion 2 is not one this p11compat reads (only schemaVersion 1); was it written by another version?",
    );
  });

  it("lists the first problems of a badly damaged report and counts the rest", () => {
    const r = softhsm();
    for (const c of r.cases) delete c.id;
    const lines = messageOf(r).split("\n");
    expect(lines).toHaveLength(9);
    expect(lines[0]).toBe("r.json: cases/0: missing required property 'id'");
    expect(lines[8]).toBe(
      `r.json: and ${r.cases.length - 8} more problem(s) (schema/report.schema.json says what a report holds)`,
    );
  });

  it("reads a file that is not JSON, or not there, as a ReportFileError", () => {
    const file = path.join(tmpDir("schema"), "r.json");
    writeFileSync(file, '{"schemaVersion": 1,');
    expect(() => readReport(file)).toThrow(new RegExp(`^${file}: not readable as JSON \\(`));
    expect(() => readReport(`${file}.missing`)).toThrow(`${file}.missing: cannot be read (ENOENT)`);
  });
});

// A report from disk, checked against schema/report.schema.json before anything renders it: renderers
// embed its text, and a damaged or foreign file should be named with the field at fault, not crash later.
import { readFileSync, statSync } from "node:fs";
import type { Report } from "../contract/report.js";
import type { SpeedReport } from "../contract/speed.js";
import { describeValue, validateData, type Path } from "../input/yamlSchema.js";
import { reportSchema, speedSchema } from "./schema.js";

/** A file that is not a report p11compat could have written. */
export class ReportFileError extends Error {}

const MAX_REPORT_BYTES = 256 * 1024 * 1024;

/** Issues listed in an error before "and N more": the first few say what is wrong. */
const SHOWN = 8;

export function readReport(file: string): Report {
  return checkReport(readJson(file), file);
}

/** A `p11compat speed` report from disk, checked against schema/speed.schema.json. */
export function readSpeedReport(file: string): SpeedReport {
  const data = readJson(file);
  if (typeof data !== "object" || data === null || (data as { kind?: unknown }).kind !== "speed")
    throw new ReportFileError(`${file} is not a p11compat speed report (it has no "kind": "speed")`);
  return valid(data, speedSchema(), file, "schema/speed.schema.json") as SpeedReport;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    // A device or a FIFO (/dev/zero) would be read forever.
    const st = statSync(file);
    if (!st.isFile() && !st.isDirectory()) throw new ReportFileError(`${file}: not a regular file`);
    if (st.size > MAX_REPORT_BYTES)
      throw new ReportFileError(`${file}: ${st.size} bytes is too large for a report (at most 256 MiB)`);
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof ReportFileError) throw err;
    throw new ReportFileError(
      `${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ReportFileError(`${file}: not readable as JSON (${(err as Error).message})`);
  }
}

/** `data` as a Report, or a ReportFileError naming `source`, each bad field's JSON pointer and what it allows. */
export function checkReport(data: unknown, source: string): Report {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ReportFileError(
      `${source} is not a p11compat report: a JSON object with schemaVersion 1 was expected, got ${Array.isArray(data) ? "an array" : describeValue(data)}`,
    );
  }
  if ((data as { kind?: unknown }).kind === "speed")
    throw new ReportFileError(
      `${source} is a speed report (p11compat speed): give it to \`p11compat report\` with --speed`,
    );
  const version = (data as { schemaVersion?: unknown }).schemaVersion;
  if (version === undefined) throw new ReportFileError(`${source} is not a p11compat report (it has no schemaVersion)`);
  if (version !== 1) {
    throw new ReportFileError(
      `${source}: schemaVersion ${JSON.stringify(version)} is not one this p11compat reads (only schemaVersion 1); was it written by another version?`,
    );
  }
  return valid(data, reportSchema(), source, "schema/report.schema.json") as Report;
}

/** `data` if it fits `schema`; else a ReportFileError naming each bad field's JSON pointer and what it allows. */
function valid(data: unknown, schema: object, source: string, schemaFile: string): unknown {
  const issues = validateData(schema, data);
  if (issues.length) {
    const lines = issues.slice(0, SHOWN).map((i) => `${source}: ${pointer(i.path)}: ${i.message}`);
    if (issues.length > SHOWN)
      lines.push(`${source}: and ${issues.length - SHOWN} more problem(s) (${schemaFile} says what a report holds)`);
    throw new ReportFileError(lines.join("\n"));
  }
  return data;
}

/** A JSON pointer without the leading slash (cases/3/outcome), "(top level)" for the root. */
function pointer(path: Path): string {
  return path.length ? path.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/") : "(top level)";
}

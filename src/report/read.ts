// A report from disk, checked against schema/report.schema.json before anything renders it: renderers
// embed its text, and a damaged or foreign file should be named with the field at fault, not crash later.
import { readFileSync, statSync } from "node:fs";
import type { Report } from "../contract/report.js";
import { describeValue, validateData, type Path } from "../input/yamlSchema.js";
import { reportSchema } from "./schema.js";

/** A file that is not a report p11compat could have written. */
export class ReportFileError extends Error {}

const MAX_REPORT_BYTES = 256 * 1024 * 1024;

/** Issues listed in an error before "and N more": the first few say what is wrong. */
const SHOWN = 8;

export function readReport(file: string): Report {
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
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ReportFileError(`${file}: not readable as JSON (${(err as Error).message})`);
  }
  return checkReport(data, file);
}

/** `data` as a Report, or a ReportFileError naming `source`, each bad field's JSON pointer and what it allows. */
export function checkReport(data: unknown, source: string): Report {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ReportFileError(
      `${source} is not a p11compat report: a JSON object with schemaVersion 1 was expected, got ${Array.isArray(data) ? "an array" : describeValue(data)}`,
    );
  }
  const version = (data as { schemaVersion?: unknown }).schemaVersion;
  if (version === undefined) throw new ReportFileError(`${source} is not a p11compat report (it has no schemaVersion)`);
  if (version !== 1) {
    throw new ReportFileError(
      `${source}: schemaVersion ${JSON.stringify(version)} is not one this p11compat reads (only schemaVersion 1); was it written by another version?`,
    );
  }
  const issues = validateData(reportSchema(), data);
  if (issues.length) {
    const lines = issues.slice(0, SHOWN).map((i) => `${source}: ${pointer(i.path)}: ${i.message}`);
    if (issues.length > SHOWN)
      lines.push(
        `${source}: and ${issues.length - SHOWN} more problem(s) (schema/report.schema.json says what a report holds)`,
      );
    throw new ReportFileError(lines.join("\n"));
  }
  return data as Report;
}

/** A JSON pointer without the leading slash (cases/3/outcome), "(top level)" for the root. */
function pointer(path: Path): string {
  return path.length ? path.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/") : "(top level)";
}

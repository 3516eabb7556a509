// `p11compat report A.json B.json ...`: the matrix across reports (tokens), as one HTML page with
// --html, or as a short text summary on stdout.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readReport, readSpeedReport } from "../report/read.js";
import { UsageError } from "./output.js";
import { checkOutputFile } from "./destinations.js";
import { renderHtml } from "../report/html.js";
import { buildMatrix } from "../report/matrix.js";
import { matrixText } from "../report/matrix-text.js";

export async function reportCommand(
  files: string[],
  flags: { html?: string; clients?: string[]; speed?: string[] },
): Promise<void> {
  if (flags.html) checkOutputFile(flags.html, "--html", [...files, ...(flags.clients ?? []), ...(flags.speed ?? [])]);
  if (!files.length && !flags.speed?.length)
    throw new UsageError("give at least one report JSON file (or --html FILE --speed with speed reports)");
  const reports = files.map((f) => readReport(f));
  if (flags.speed && !flags.html)
    throw new UsageError("--speed adds the Speed view to the HTML page: give --html FILE too");
  const speed = flags.speed?.map((f) => ({ report: readSpeedReport(f), source: f }));
  if (flags.clients && !flags.html)
    throw new UsageError("--clients adds the Clients view to the HTML page: give --html FILE too");
  if (flags.html) {
    const out = path.resolve(flags.html);
    mkdirSync(path.dirname(out), { recursive: true });
    const clientReports = flags.clients?.map((f) => ({ report: readReport(f), source: f }));
    writeFileSync(
      out,
      renderHtml(reports, {
        sources: files,
        ...(clientReports ? { clientReports } : {}),
        ...(speed ? { speed } : {}),
      }),
    );
    process.stdout.write(`${out}\n`);
    return;
  }
  process.stdout.write(matrixText(buildMatrix(reports, files)));
}

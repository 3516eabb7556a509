// Output file names derived from input names, chosen so that no output ever lands on an input.
import { statSync } from "node:fs";
import path from "node:path";

/** Whether two paths name the same existing file (also through a symbolic or hard link). */
export function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** The Markdown beside a report: r.json -> r.md; any other name gets .md added (r.txt -> r.txt.md), so never the report itself. */
export function markdownPathFor(reportPath: string): string {
  return /\.json$/i.test(reportPath) ? reportPath.replace(/\.json$/i, ".md") : `${reportPath}.md`;
}

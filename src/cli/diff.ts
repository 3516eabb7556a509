// `p11compat diff`: two reports compared, and with --baseline a regression gate.
import { writeFileSync } from "node:fs";
import { readReport } from "../report/read.js";
import { diffReports, diffText, regressions, regressionText } from "../report/diff.js";
import { checkOutputFile } from "./destinations.js";

interface DiffFlags {
  baseline?: boolean;
  format: "text" | "markdown" | "json";
  out?: string;
}

export async function diffCommand(a: string, b: string, flags: DiffFlags): Promise<void> {
  if (flags.out) checkOutputFile(flags.out, "--out", [a, b]);
  const old = readReport(a);
  const now = readReport(b);
  const d = diffReports(old, now);
  const gate = flags.baseline ? regressions(old, now) : undefined;
  const text =
    flags.format === "json"
      ? `${JSON.stringify(gate ? { ...d, regressions: gate } : d, null, 2)}\n`
      : `${diffText(d, flags.format === "markdown")}${gate ? `\n${regressionText(gate)}` : ""}`;
  if (flags.out) writeFileSync(flags.out, text);
  else process.stdout.write(text);
  if (gate?.length) process.exitCode = 1;
}

// `p11compat clients A.json B.json ...`: will each client work with each token? (src/report/clients.ts)
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readReport } from "../report/read.js";
import { clientVerdicts } from "../report/clients.js";
import { clientGrid, clientsMarkdown, clientsText, verdictChanges } from "../report/clients-table.js";
import { UsageError } from "./output.js";
import { checkOutputFile } from "./destinations.js";
import { markdownPathFor } from "../report/files.js";

interface ClientsFlags {
  format: "text" | "markdown" | "json";
  out?: string;
  expect?: string;
}

export async function clientsCommand(files: string[], flags: ClientsFlags): Promise<void> {
  if (flags.out) checkOutputFile(flags.out, "--out", files);
  const perReport = files.map((f) => clientVerdicts(readReport(f), f));
  if (!perReport.some((vs) => vs.length)) {
    throw new UsageError(
      `no client profile in ${files.length === 1 ? "this report" : "these reports"}: run one first, e.g. p11compat run --suite suites/clients/parsec.yaml --device softhsm`,
    );
  }
  const grid = clientGrid(perReport);
  const outDir = flags.out ? path.dirname(path.resolve(flags.out)) : undefined;
  const text =
    flags.format === "json"
      ? `${JSON.stringify(perReport.flat(), null, 2)}\n`
      : flags.format === "markdown"
        ? clientsMarkdown(grid, (v) =>
            v.reportFile && outDir ? path.relative(outDir, path.resolve(markdownPathFor(v.reportFile))) : undefined,
          )
        : clientsText(grid);
  if (flags.out) {
    mkdirSync(outDir!, { recursive: true });
    writeFileSync(flags.out, text);
    process.stdout.write(`${path.resolve(flags.out)}\n`);
  } else process.stdout.write(text);
  if (flags.expect) {
    let expected: { client: string; device: string; verdict: string }[];
    try {
      if (!statSync(flags.expect).isFile()) throw new Error("not a regular file"); // /dev/zero would never end
      expected = JSON.parse(readFileSync(flags.expect, "utf8")) as typeof expected;
      if (!Array.isArray(expected)) throw new Error("not a list of verdicts");
    } catch (err) {
      throw new UsageError(
        `--expect ${flags.expect}: not the JSON that \`p11compat clients --format json\` writes (${(err as Error).message})`,
      );
    }
    const changes = verdictChanges(grid, expected);
    if (changes.length) {
      process.stderr.write(`verdicts that differ from ${flags.expect}:\n${changes.map((c) => `  ${c}`).join("\n")}\n`);
      process.exitCode = 1;
    } else process.stderr.write(`every verdict matches ${flags.expect}\n`);
  }
}

// The Markdown summary written beside each JSON report.
import { closeSync, existsSync, openSync, readSync, writeFileSync } from "node:fs";
import type { CaseResult, Report } from "../contract/report.js";
import { OUTCOMES } from "../contract/report.js";
import { bySuite, evidence, groupByReason, total } from "./summary.js";
import { compareAdvertised } from "./advertised.js";
import { type AdvertisedVsActual } from "../contract/report.js";
import { markdownPathFor, sameFile } from "./files.js";
import { ReportFileError } from "./read.js";
import { md, mdCode } from "./markdown-escape.js";

const HEADING = "# p11compat report: ";

/**
 * Writes `report`'s Markdown beside `reportPath` (see markdownPathFor) and returns its path. It replaces
 * only a summary p11compat wrote: never the report itself, nor another file that happens to have the name.
 */
export function writeMarkdown(report: Report, reportPath: string): string {
  const target = markdownPathFor(reportPath);
  if (sameFile(target, reportPath))
    throw new ReportFileError(
      `${reportPath}: its Markdown would go to ${target}, which is the report itself; nothing written`,
    );
  if (existsSync(target) && !startsWithHeading(target)) {
    throw new ReportFileError(
      `${target} exists and is not a p11compat summary; not overwritten (move it, or the report, elsewhere)`,
    );
  }
  writeFileSync(target, renderMarkdown(report));
  return target;
}

function startsWithHeading(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(HEADING.length);
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.toString("utf8") === HEADING;
  } finally {
    closeSync(fd);
  }
}

export function renderMarkdown(report: Report): string {
  const t = report.token;
  const out: string[] = [];
  out.push(`${HEADING}${md(report.device.profile)}`, "");
  if (report.status !== "complete")
    out.push(
      `> **Run ${md(report.status)}**: ${md(report.cases.length)} of ${md(report.run.caseCount)} cases finished.`,
      "",
    );
  out.push(
    "| | |",
    "|---|---|",
    `| Token | ${md(t.token.label)} (${md(t.token.manufacturer)} ${md(t.token.model)}, serial ${md(t.token.serial)}, firmware ${md(t.token.firmware)}) |`,
    `| Library | ${md(t.library.description)} ${md(t.library.version)} by ${md(t.library.manufacturer)}, Cryptoki ${md(t.library.cryptokiVersion)} |`,
    `| Module | ${mdCode(t.library.path)} |`,
    `| Mechanisms advertised | ${report.mechanisms.length} |`,
    `| Run | ${md(report.startedAt)} to ${md(report.finishedAt ?? "(not finished)")}, ${md(report.tool.name)} ${md(report.tool.version)} |`,
    `| Keys generated | ${md(report.run.keysGenerated)} |`,
    "",
    "## Summary",
    "",
    `| suite | ${OUTCOMES.join(" | ")} | total |`,
    `|---|${OUTCOMES.map(() => "---:").join("|")}|---:|`,
  );
  for (const [suite, s] of bySuite(report.cases))
    out.push(`| ${md(suite)} | ${OUTCOMES.map((o) => md(s[o])).join(" | ")} | ${md(total(s))} |`);
  out.push(
    `| **total** | ${OUTCOMES.map((o) => `**${md(report.summary[o])}**`).join(" | ")} | **${md(total(report.summary))}** |`,
    "",
  );

  section(
    out,
    "Failures",
    report.cases.filter((c) => c.outcome === "fail" || c.outcome === "error"),
  );
  grouped(
    out,
    "Unsupported",
    report.cases.filter((c) => c.outcome === "unsupported"),
  );
  grouped(
    out,
    "Skipped",
    report.cases.filter((c) => c.outcome === "skipped"),
  );
  advertisedSection(out, report.advertised ?? compareAdvertised(report));
  if (report.run.notes.length) out.push("## Notes", "", ...report.run.notes.map((n) => `- ${md(n)}`), "");
  out.push(
    `## Mechanisms advertised (${report.mechanisms.length})`,
    "",
    report.mechanisms.map((m) => mdCode(m.name)).join(", "),
    "",
  );
  return out.join("\n");
}

/** One row per reason: unsupported cases repeat the same few reasons over many parameters. */
function grouped(out: string[], title: string, cases: CaseResult[]): void {
  if (!cases.length) return;
  out.push(`## ${title} (${cases.length})`, "", "| reason | cases |", "|---|---|");
  for (const g of groupByReason(cases)) {
    const shown = g.cases
      .slice(0, 3)
      .map((c) => mdCode(c.id))
      .join("<br>");
    out.push(`| ${md(g.reason)} | ${g.cases.length}: ${shown}${g.cases.length > 3 ? "<br>..." : ""} |`);
  }
  out.push("");
}

function section(out: string[], title: string, cases: CaseResult[]): void {
  if (!cases.length) return;
  out.push(`## ${title} (${cases.length})`, "", "| case | outcome | evidence |", "|---|---|---|");
  for (const c of cases) out.push(`| ${mdCode(c.id)} | ${md(c.outcome)} | ${md(evidence(c))} |`);
  out.push("");
}

function advertisedSection(out: string[], a: AdvertisedVsActual): void {
  out.push("## Advertised versus actual", "");
  if (!a.findings.length) out.push("Every mechanism the cases used behaved as advertised.", "");
  else {
    out.push("| mechanism | finding | detail | cases |", "|---|---|---|---|");
    for (const f of a.findings)
      out.push(
        `| ${md(f.mechanism)} | ${md(f.kind)} | ${md(f.detail)} | ${f.cases.map((c) => mdCode(c)).join("<br>")} |`,
      );
    out.push("");
  }
  if (a.unstable.length)
    out.push(
      `Unstable between two queries (not findings): ${a.unstable.map((u) => `${md(u.mechanism)} (${md(u.fields.join(", "))})`).join(", ")}.`,
      "",
    );
  if (a.notExercised.length)
    out.push(
      `Advertised but not exercised by these suites (${a.notExercised.length}): ${md(a.notExercised.join(", "))}.`,
      "",
    );
}

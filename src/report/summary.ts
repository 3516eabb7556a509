// Per-suite counts, shared by the terminal table and the Markdown report.
import { OUTCOMES, emptySummary, type CaseResult, type Report, type Summary } from "../contract/report.js";
import { formatCkr } from "../pkcs11/errors.js";

export function bySuite(cases: CaseResult[]): Map<string, Summary> {
  const out = new Map<string, Summary>();
  for (const c of cases) {
    let s = out.get(c.suite);
    if (!s) out.set(c.suite, (s = emptySummary()));
    s[c.outcome]++;
  }
  return out;
}

/** A plain text table: suite rows, outcome columns, a total row. */
export function summaryTable(report: Pick<Report, "cases" | "summary">): string {
  const rows: string[][] = [["suite", ...OUTCOMES, "total"]];
  for (const [suite, s] of bySuite(report.cases))
    rows.push([suite, ...OUTCOMES.map((o) => String(s[o])), String(total(s))]);
  rows.push(["total", ...OUTCOMES.map((o) => String(report.summary[o])), String(total(report.summary))]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]!), rule, ...rows.slice(1, -1).map(line), rule, line(rows.at(-1)!)].join("\n");
}

export function total(s: Summary): number {
  return OUTCOMES.reduce((n, o) => n + s[o], 0);
}

/** The message, prefixed with the function and CK_RV when the message does not already name them. */
export function evidence(c: CaseResult): string {
  const rv = c.ckr && c.ckr.code !== 0 ? formatCkr(c.ckr) : undefined;
  const prefix = [
    c.function && !c.message.includes(c.function) ? c.function : undefined,
    rv && !c.message.includes(c.ckr!.name) ? rv : undefined,
  ];
  const attribute = c.attribute && !c.message.includes(c.attribute) ? ` [${c.attribute}]` : "";
  const head = prefix.filter(Boolean).join(" ");
  const diagnosis = c.diagnosis ? `. Diagnosis: ${c.diagnosis.summary}` : "";
  return `${head ? `${head}: ` : ""}${c.message}${attribute}${diagnosis}`;
}

/** Cases with the same reason together (reasons differ only in the mechanism or key they name). */
export function groupByReason(cases: CaseResult[]): { reason: string; cases: CaseResult[] }[] {
  const groups = new Map<string, CaseResult[]>();
  for (const c of cases) {
    const reason = evidence(c);
    groups.set(reason, [...(groups.get(reason) ?? []), c]);
  }
  return [...groups].map(([reason, cs]) => ({ reason, cases: cs })).sort((a, b) => b.cases.length - a.cases.length);
}

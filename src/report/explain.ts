// One case of a report, told in full: outcome, diagnosis, what the CK_RV means and the call trace,
// as plain text fit to paste into a bug report.
import type { CaseResult, Report } from "../contract/report.js";
import type { TraceEntry } from "../pkcs11/trace.js";
import { formatCkr } from "../pkcs11/errors.js";
import { explain } from "./explanations.js";
import { evidence } from "./summary.js";

export function explainCase(report: Report, c: CaseResult): string {
  const t = report.token;
  const out: string[] = [];
  out.push(`${c.id}: ${c.outcome}`, `  ${c.title}`, "");
  out.push(`Token:    ${t.token.label} (${t.token.manufacturer} ${t.token.model}, firmware ${t.token.firmware})`);
  out.push(
    `Library:  ${t.library.description} ${t.library.version} (${t.library.manufacturer}), Cryptoki ${t.library.cryptokiVersion}, ${t.library.path}`,
  );
  out.push(
    `Run:      ${report.tool.name} ${report.tool.version}, ${report.startedAt}, device profile ${report.device.profile}`,
  );
  out.push(`Outcome:  ${evidence(c)}`);
  if (c.verified?.length) out.push(`Checked:  ${c.verified.join("; ")}`);
  out.push("");
  const d = c.diagnosis;
  if (d) {
    out.push(`Diagnosis (${d.calls} extra calls of a budget of ${d.budget}):`, `  ${d.summary}`);
    for (const x of d.culprits) {
      const alt = x.accepted.length
        ? `; accepted instead: ${x.accepted.join(", ")}`
        : x.rejected.length
          ? `; also rejected: ${x.rejected.join(", ")}`
          : "";
      const rv = x.ckr ? ` ${formatCkr(x.ckr)}` : "";
      const partner = x.conflictsWith
        ? ` with ${x.conflictsWith}${x.resolvedBy ? ` (accepted with ${x.resolvedBy})` : ""}`
        : "";
      out.push(`  - ${x.attribute} = ${x.value} in the ${x.template}: ${x.kind}${partner}${rv ? `,${rv}` : ""}${alt}`);
    }
    for (const m of d.missing)
      out.push(`  - missing ${m.attribute} in the ${m.template} (completes the template with ${m.value})`);
    out.push("");
  }
  if (c.ckr && c.ckr.code !== 0) {
    const e = explain(c.ckr.code);
    out.push(
      `What ${e.name} means (${e.spec.document}, section ${e.spec.section} "${e.spec.title}"):`,
      `  ${e.meaning}`,
    );
    if (e.causes.length) out.push("  Usual causes:", ...e.causes.map((x) => `  - ${x}`));
    out.push("");
  }
  if (c.trace?.length) {
    out.push("Call trace (PINs and secret values redacted):");
    c.trace.forEach((entry, i) => out.push(`  ${String(i + 1).padStart(2)}. ${traceLine(entry)}`));
  } else out.push("No call trace kept for this case (run with --trace all to keep every trace).");
  return `${out.join("\n")}\n`;
}

function traceLine(e: TraceEntry): string {
  const args = e.args
    ? Object.entries(e.args)
        .map(([k, v]) => `${k}=${show(v)}`)
        .join(", ")
    : "";
  return `${e.fn}(${args}) -> ${e.rv}  [${e.ms} ms]`;
}

function show(v: unknown): string {
  if (Array.isArray(v)) {
    return `[${v.map((a) => (a && typeof a === "object" && "name" in a && "value" in a ? `${(a as { name: string }).name}=${(a as { value: string }).value}` : show(a))).join(", ")}]`;
  }
  if (v && typeof v === "object")
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${show(x)}`)
      .join(", ")}}`;
  return String(v);
}

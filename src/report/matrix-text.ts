// The matrix as a short text summary (`p11compat report` without --html): tokens, outcome counts
// per token, and the cases whose outcome differs between tokens.
import {
  CELL_OUTCOMES,
  cellOutcome,
  OUTCOME_LABEL,
  outcomesDiffer,
  tokenCounts,
  tokenHeading,
  type Matrix,
} from "./matrix.js";

/** At most `limit` of the differing cases are listed. */
export function matrixText(m: Matrix, limit = 20): string {
  const out: string[] = [];
  out.push(`${m.tokens.length} report(s), ${m.cases.length} cases matched by case id`, "");
  for (const t of m.tokens) {
    const h = tokenHeading(t);
    const status = t.status === "complete" ? "" : ` [${t.status}]`;
    out.push(`  ${t.letter}  ${h.profile} · ${h.token} · ${h.library}${status}${t.source ? `  ${t.source}` : ""}`);
  }
  out.push("");
  const counts = m.tokens.map((_, t) => tokenCounts(m, t));
  const width = Math.max(
    ...m.tokens.map((_, t) => Math.max(...CELL_OUTCOMES.map((o) => String(counts[t]![o]).length))),
    3,
  );
  const labelWidth = Math.max(...CELL_OUTCOMES.map((o) => OUTCOME_LABEL[o].length));
  out.push(`  ${"".padEnd(labelWidth)}  ${m.tokens.map((t) => t.letter.padStart(width)).join("  ")}`);
  for (const o of CELL_OUTCOMES)
    out.push(`  ${OUTCOME_LABEL[o].padEnd(labelWidth)}  ${counts.map((c) => String(c[o]).padStart(width)).join("  ")}`);
  out.push("");
  if (m.tokens.length > 1) {
    const differ = m.cases.filter(outcomesDiffer);
    const partial = m.cases.filter((c) => c.results.some((r) => !r)).length;
    if (partial) out.push(`${partial} case(s) are not in every report (not run).`);
    if (!differ.length) out.push("Every case has the same outcome on every token that ran it.");
    else {
      out.push(
        `${differ.length} case(s) have different outcomes on the tokens that ran them${differ.length > limit ? ` (first ${limit})` : ""}:`,
      );
      const w = Math.max(...CELL_OUTCOMES.map((o) => OUTCOME_LABEL[o].length));
      out.push(`  ${m.tokens.map((t) => t.letter.padEnd(w)).join("  ")}  case`);
      for (const c of differ.slice(0, limit))
        out.push(`  ${c.results.map((r) => OUTCOME_LABEL[cellOutcome(r)].padEnd(w)).join("  ")}  ${c.id}`);
    }
    out.push("");
  }
  out.push("The whole matrix, with the evidence of every cell: add --html FILE.", "");
  return out.join("\n");
}

// The page's tables as HTML strings: cases x tokens, mechanisms x tokens, clients x tokens, and the
// token column heads. Report text goes in only through escapeHtml / breakable.
import type { CaseResult } from "../../contract/report.js";
import { verdictLine } from "../clients.js";
import { details, type ClientGrid } from "../clients-table.js";
import {
  CELL_OUTCOMES,
  cellOutcome,
  MECH_STATUS_LABEL,
  mechanismFlags,
  OUTCOME_LABEL,
  paramsText,
  tokenCounts,
  tokenHeading,
  type CellOutcome,
  type Matrix,
  type MatrixToken,
  type MechanismCell,
  type OpTally,
} from "../matrix.js";
import { breakable, escapeHtml } from "./escape.js";

function tokenTooltip(t: MatrixToken): string {
  return [
    `${t.letter}: ${t.deviceTitle} (profile ${t.profile})`,
    `token ${t.label}, ${t.manufacturer} ${t.model}, serial ${t.serial}, firmware ${t.firmware}`,
    `library ${t.library.description} ${t.library.version} by ${t.library.manufacturer}, Cryptoki ${t.library.cryptoki}`,
    t.library.path,
    `run ${t.startedAt} (${t.status}), suites ${t.suites.join(", ")}${t.filter ? `, filter "${t.filter}"` : ""}`,
    ...(t.source ? [t.source] : []),
  ].join("\n");
}

/** The short text under the outcome in a cell: the CK_RV, or the function for a wrong output. */
function cellDetail(c: CaseResult): string {
  if (c.outcome === "pass") return "";
  if (c.ckr && c.ckr.code !== 0) return c.ckr.name.replace(/^CKR_/, "");
  if (c.function) return c.outcome === "fail" ? `${c.function} output` : c.function;
  return "";
}

function countsHtml(n: Record<CellOutcome, number>, t: number): string {
  return CELL_OUTCOMES.map(
    (o) =>
      `<span class="n o-${o}${n[o] ? "" : " zero"}" data-t="${t}" data-o="${o}" title="${escapeHtml(OUTCOME_LABEL[o])}">${n[o]}</span>`,
  ).join("");
}

function tokenHeader(m: Matrix, t: number, counts: boolean): string {
  const tok = m.tokens[t]!;
  const h = tokenHeading(tok);
  const status = tok.status === "complete" ? "" : ` <span class="tag">${escapeHtml(tok.status)}</span>`;
  return (
    `<th class="tok" scope="col" title="${escapeHtml(tokenTooltip(tok))}"><div class="tk-top"><span class="letter">${escapeHtml(tok.letter)}</span> <span class="tk-profile">${escapeHtml(h.profile)}</span>${status}</div>` +
    `<div class="tk-token">${escapeHtml(h.token)}</div><div class="tk-lib">${escapeHtml(h.library)}</div>` +
    (counts ? `<div class="counts">${countsHtml(tokenCounts(m, t), t)}</div>` : "") +
    `</th>`
  );
}

export function casesTable(m: Matrix): string {
  const cols = 2 + m.tokens.length;
  const rows: string[] = [];
  let suite: string | undefined;
  m.cases.forEach((c, i) => {
    if (c.suite !== suite) {
      suite = c.suite;
      const n = m.cases.filter((x) => x.suite === suite).length;
      rows.push(
        `<tr class="grp" data-suite="${escapeHtml(suite)}"><th colspan="${cols}" scope="rowgroup"><span>${escapeHtml(suite)} <small>${n} cases</small></span></th></tr>`,
      );
    }
    const key = typeof c.params.key === "string" ? `<small>${escapeHtml(c.params.key)}</small>` : "";
    const cells = c.results.map((r, t) => {
      const o = cellOutcome(r);
      const detail = r ? cellDetail(r) : "";
      const title = r && r.outcome !== "pass" ? ` title="${escapeHtml(r.message)}"` : "";
      return `<td class="c o-${escapeHtml(o)}" data-t="${t}" tabindex="0"${title}><span class="o">${OUTCOME_LABEL[o]}</span>${detail ? `<small>${breakable(detail, /(_)/g)}</small>` : ""}</td>`;
    });
    const params = paramsText(c.params);
    rows.push(
      `<tr data-i="${i}"><th class="case" scope="row"><code>${breakable(c.id, /([,[/])/g)}</code><small title="${escapeHtml(params)}">${escapeHtml(c.title)}</small></th>` +
        `<td class="kt">${escapeHtml(c.keyType ?? "")}${key}</td>${cells.join("")}</tr>`,
    );
  });
  rows.push(`<tr class="empty" hidden><td colspan="${cols}">No case matches the filters.</td></tr>`);
  return (
    `<table class="matrix" id="cases"><thead><tr><th class="corner" scope="col">Case <small>${m.cases.length}</small></th><th class="kt" scope="col">Key</th>` +
    `${m.tokens.map((_, t) => tokenHeader(m, t, true)).join("")}</tr></thead><tbody>${rows.join("\n")}</tbody></table>`
  );
}

function opChip(op: string, tally: OpTally): string {
  const ok = tally.pass.length;
  const bad = tally.fail.length + tally.error.length;
  const uns = tally.unsupported.length;
  const skip = tally.skipped.length;
  const nums = [
    ok ? `<b class="k-ok" title="${ok} case(s): the call worked">${ok}</b>` : "",
    bad ? `<b class="k-bad" title="${bad} case(s) failed at it">${bad}</b>` : "",
    uns ? `<b class="k-uns" title="${uns} case(s): unsupported">${uns}</b>` : "",
    skip ? `<b class="k-skip" title="${skip} case(s): skipped">${skip}</b>` : "",
  ].join("");
  return `<span class="op">${escapeHtml(op)} ${nums}</span>`;
}

function mechanismCellHtml(cell: MechanismCell, t: number): string {
  const a = cell.advertised;
  const size = a && (a.minKeySize || a.maxKeySize) ? ` · ${a.minKeySize}–${a.maxKeySize}` : "";
  const adv = a ? `<div class="adv">advertised${escapeHtml(size)}</div>` : `<div class="adv no">not advertised</div>`;
  const flags = a
    ? `<div class="flags">${mechanismFlags(a.flags)
        .map((f) => `<span title="${escapeHtml(f.name)}">${escapeHtml(f.short)}</span>`)
        .join(" ")}</div>`
    : "";
  const ops = Object.entries(cell.ops);
  const opsHtml = ops.length ? `<div class="ops">${ops.map(([op, tally]) => opChip(op, tally)).join("")}</div>` : "";
  const warn = cell.findings.length
    ? `<div class="warn" title="${escapeHtml(cell.findings.map((f) => `${f.kind}: ${f.detail}`).join("\n"))}">⚠ ${cell.findings.map((f) => escapeHtml(f.kind)).join(", ")}</div>`
    : "";
  return `<td class="m s-${cell.status}" data-t="${t}" tabindex="0" title="${escapeHtml(MECH_STATUS_LABEL[cell.status])}">${adv}${flags}${opsHtml}${warn}</td>`;
}

export function mechanismsTable(m: Matrix): string {
  const rows = m.mechanisms.map(
    (mech, i) =>
      `<tr data-i="${i}"><th class="mech" scope="row"><code>${escapeHtml(mech.name)}</code></th><td class="kt">${escapeHtml(mech.keyType ?? "")}</td>${mech.cells.map((c, t) => mechanismCellHtml(c, t)).join("")}</tr>`,
  );
  rows.push(
    `<tr class="empty" hidden><td colspan="${2 + m.tokens.length}">No mechanism matches the filters.</td></tr>`,
  );
  return (
    `<table class="matrix" id="mechs"><thead><tr><th class="corner" scope="col">Mechanism <small>${m.mechanisms.length}</small></th><th class="kt" scope="col">Key</th>` +
    `${m.tokens.map((_, t) => tokenHeader(m, t, false)).join("")}</tr></thead><tbody>${rows.join("\n")}</tbody></table>`
  );
}

/** The client x token table (src/report/clients.ts): a verdict per cell, its evidence folded beneath. */
export function clientsView(grid: ClientGrid): string {
  const head = `<tr><th class="corner" scope="col">Client</th>${grid.tokens.map((t) => `<th scope="col">${escapeHtml(t)}</th>`).join("")}</tr>`;
  const rows = [...grid.rows].map(([name, vs]) => {
    const source = vs.find((v) => v)?.source ?? "";
    const cells = vs.map((v) => {
      if (!v) return `<td class="cv v-none">not in this report</td>`;
      const cls =
        v.verdict === "works"
          ? "v-ok"
          : v.verdict === "works with caveats"
            ? "v-cav"
            : v.verdict === "does not work"
              ? "v-bad"
              : "v-none";
      const line = verdictLine(v);
      const reason = line.includes(": ") ? line.slice(line.indexOf(": ") + 2) : "";
      const lines = details(v)
        .map(
          (l) =>
            `<li${l.startsWith("  ") ? ' class="sub"' : ""}>${escapeHtml(l.trim().replace(/^- /, "").replace(/`/g, ""))}</li>`,
        )
        .join("");
      return `<td class="cv ${cls}"><b>${escapeHtml(v.verdict)}</b>${reason ? `<span class="why">${escapeHtml(reason)}</span>` : ""}<details><summary>evidence</summary><ul>${lines}</ul></details></td>`;
    });
    return `<tr><th scope="row">${escapeHtml(name)}<small>${escapeHtml(source)}</small></th>${cells.join("")}</tr>`;
  });
  return (
    `<table class="clients" id="clients"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>` +
    `<p class="note">A client works when every case of its calls passes; it works with caveats when what it cannot do without works but something else does not; it does not work when something it cannot do without fails on every case. The cases are the client's own calls and templates, read from its source (suites/clients/).</p>`
  );
}

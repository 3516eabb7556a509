// The compatibility matrix across any number of reports (tokens) as one self-contained HTML page:
// the cases and mechanisms views of the matrix (matrix.ts), the Clients view, and the Speed view
// (`p11compat speed` reports, html/speed.ts). Pure apart from
// reading its stylesheet and script (html/assets.ts): reports in, a string out. The page embeds its
// data as JSON and needs no network (it works from file://). Everything that comes from a report is
// escaped (html/escape.ts), and the page's script (html/matrix.js) builds the evidence panel with
// text nodes only.
import type { Report } from "../contract/report.js";
import { clientVerdicts } from "./clients.js";
import { clientGrid } from "./clients-table.js";
import {
  buildMatrix,
  CELL_OUTCOMES,
  MECH_STATUS_LABEL,
  OUTCOME_LABEL,
  OUTCOME_MEANING,
  type MechanismStatus,
} from "./matrix.js";
import { pageAssets } from "./html/assets.js";
import { escapeHtml, jsonForScript } from "./html/escape.js";
import { pageData } from "./html/page-data.js";
import { casesTable, clientsView, mechanismsTable } from "./html/tables.js";
import { speedView, type SpeedSource } from "./html/speed.js";

export interface HtmlOptions {
  /** Where each report was read from (shown in the column's tooltip and in `p11compat explain` hints). */
  sources?: string[];
  /** The time printed as "generated"; defaults to now. */
  generatedAt?: string;
  /** Reports of client profiles for the Clients view (default: the client profiles in `reports`), and where each was read. */
  clientReports?: { report: Report; source?: string }[];
  /** `p11compat speed` reports for the Speed view (ops/s per token, side by side). */
  speed?: SpeedSource[];
}

const options = (values: string[], all: string) =>
  `<option value="">${escapeHtml(all)}</option>${values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`).join("")}`;

export function renderHtml(reports: Report[], opts: HtmlOptions = {}): string {
  const speed = opts.speed ?? [];
  if (!reports.length && !speed.length) throw new Error("renderHtml needs at least one report");
  const m = buildMatrix(reports, opts.sources);
  const assets = pageAssets();
  const generated = opts.generatedAt ?? new Date().toISOString();
  const suites = [...new Set(m.cases.map((c) => c.suite))];
  const keyTypes = [
    ...new Set(
      [...m.cases.map((c) => c.keyType), ...m.mechanisms.map((x) => x.keyType)].filter((k): k is string => !!k),
    ),
  ].sort();
  const mechNames = m.mechanisms.map((x) => x.name);
  const perReport = (opts.clientReports ?? reports.map((report, i) => ({ report, source: opts.sources?.[i] }))).map(
    (c) => clientVerdicts(c.report, c.source),
  );
  const clients = perReport.some((vs) => vs.length) ? clientGrid(perReport) : undefined;
  const named = m.tokens.length
    ? m.tokens.map((t) => `${t.profile} ${t.label}`)
    : speed.map((s) => `${s.report.device.profile} ${s.report.token.token.label}`);
  const title = `p11compat matrix: ${named.join(", ")}`;
  const tool = m.tokens[0]?.tool ?? `${speed[0]!.report.tool.name} ${speed[0]!.report.tool.version}`;
  const speedResults = new Set(speed.flatMap((s) => s.report.results.map((r) => r.id))).size;
  const outcomeFilter = CELL_OUTCOMES.map(
    (o) =>
      `<label class="chip o-${o}" title="${escapeHtml(OUTCOME_MEANING[o])}"><input type="checkbox" name="outcome" value="${o}" checked> ${OUTCOME_LABEL[o]}</label>`,
  ).join("");
  const legendCases = CELL_OUTCOMES.map(
    (o) =>
      `<span class="lg"><i class="sw o-${o}"></i><b>${OUTCOME_LABEL[o]}</b> ${escapeHtml(OUTCOME_MEANING[o])}</span>`,
  ).join("");
  const legendMechs =
    (["pass", "mixed", "fail", "unsupported", "idle", "none"] as MechanismStatus[])
      .map((s) => `<span class="lg"><i class="sw s-${s}"></i>${escapeHtml(MECH_STATUS_LABEL[s])}</span>`)
      .join("") +
    `<span class="lg">per operation: <b class="k-ok">n</b> worked <b class="k-bad">n</b> failed <b class="k-uns">n</b> unsupported <b class="k-skip">n</b> skipped (cases); key sizes as advertised (bits, or bytes for block ciphers); ⚠ advertised versus actual</span>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '${assets.scriptHash}'; img-src data:">
<meta name="generator" content="${escapeHtml(tool)}">
<title>${escapeHtml(title)}</title>
<style>${assets.css}</style>
</head>
<body>
<header class="top">
<h1>p11compat matrix</h1>
<span class="meta">${m.tokens.length} token${m.tokens.length === 1 ? "" : "s"} · ${m.cases.length} cases · ${m.mechanisms.length} mechanisms · generated ${escapeHtml(generated)}</span>
<nav class="tabs" role="tablist">
<button type="button" role="tab" id="tab-cases" data-view="cases" aria-selected="true">Cases <small>${m.cases.length}</small></button>
<button type="button" role="tab" id="tab-mechs" data-view="mechs" aria-selected="false">Mechanisms <small>${m.mechanisms.length}</small></button>
${clients ? `<button type="button" role="tab" id="tab-clients" data-view="clients" aria-selected="false">Clients <small>${clients.rows.size}</small></button>` : ""}
${speed.length ? `<button type="button" role="tab" id="tab-speed" data-view="speed" aria-selected="false">Speed <small>${speedResults}</small></button>` : ""}
</nav>
</header>
<form class="toolbar" id="filters" autocomplete="off">
<input type="search" id="q" placeholder="Search id, title, message, CKR_…" aria-label="Search">
<label class="for-cases">Suite <select id="f-suite">${options(suites, "all")}</select></label>
<label>Mechanism <select id="f-mech">${options(mechNames, "all")}</select></label>
<label>Key type <select id="f-kt">${options(keyTypes, "all")}</select></label>
<fieldset class="outcomes for-cases"><legend>Outcome</legend>${outcomeFilter}</fieldset>
<label class="chk" title="cases: the tokens that ran it disagree on the outcome; mechanisms: advertised or fared differently"><input type="checkbox" id="f-diff"> differs between tokens</label>
<label class="chk for-mechs" hidden><input type="checkbox" id="f-used"> used by a case</label>
<button type="button" id="clear" title="Show everything again">Reset</button>
<span id="shown" aria-live="polite"></span>
</form>
<div class="legend for-cases">${legendCases}</div>
<div class="legend for-mechs" hidden>${legendMechs}</div>
<div class="work">
<main>
<section class="view" id="view-cases" role="tabpanel" aria-labelledby="tab-cases"><div class="scroll">${casesTable(m)}</div></section>
<section class="view" id="view-mechs" role="tabpanel" aria-labelledby="tab-mechs" hidden><div class="scroll">${mechanismsTable(m)}</div></section>
${clients ? `<section class="view" id="view-clients" role="tabpanel" aria-labelledby="tab-clients" hidden><div class="scroll">${clientsView(clients)}</div></section>` : ""}
${speed.length ? `<section class="view" id="view-speed" role="tabpanel" aria-labelledby="tab-speed" hidden><div class="scroll">${speedView(speed)}</div></section>` : ""}
</main>
<aside id="panel" role="dialog" aria-modal="false" aria-labelledby="panel-title" hidden><button type="button" class="close" id="panel-close" aria-label="Close" title="Close (Esc)">×</button><div id="panel-body"></div></aside>
</div>
<script type="application/json" id="p11-data">${jsonForScript(pageData(m))}</script>
<script>${assets.script}</script>
</body>
</html>
`;
}

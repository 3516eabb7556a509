// The page's Speed view: `p11compat speed` reports side by side, one group of bars per operation
// (mechanism, key, data size) with a bar per token and setting, scaled to the fastest in the group.
// Plain HTML and inline widths, no script; report text goes in only through escapeHtml.
import type { SpeedFigures, SpeedReport, SpeedResult } from "../../contract/speed.js";
import { bytes, figure, speedLabel } from "../speed.js";
import { escapeHtml } from "./escape.js";

export interface SpeedSource {
  report: SpeedReport;
  source?: string;
}

const tokenName = (r: SpeedReport) => `${r.device.profile} ${r.token.token.label}`;

function tip(r: SpeedResult, f: SpeedFigures): string {
  const h = f.harness;
  return [
    `${speedLabel(r)}, ${f.sessions} session${f.sessions === 1 ? "" : "s"}`,
    `${figure(h.opsPerSecond)} ops/s (from the median), median ${figure(h.latencyUs.median)} µs, p99 ${figure(h.latencyUs.p99)} µs (${h.ops} operations)`,
    f.raw
      ? `raw pkcs11js: ${figure(f.raw.opsPerSecond)} ops/s, median ${figure(f.raw.latencyUs.median)} µs; ratio ${f.ratio ?? "?"}`
      : "no raw loop",
    `checked: ${r.checked}`,
    ...(h.errors + (f.raw?.errors ?? 0) ? [`errors: ${h.errors + (f.raw?.errors ?? 0)}: ${f.firstError ?? ""}`] : []),
  ].join("\n");
}

export function speedView(sources: SpeedSource[]): string {
  const ids: string[] = [];
  const byId = new Map<string, (SpeedResult | undefined)[]>();
  sources.forEach(({ report }, t) => {
    for (const r of report.results) {
      if (!byId.has(r.id)) byId.set(r.id, (ids.push(r.id), []));
      byId.get(r.id)![t] = r;
    }
  });
  const legend = sources
    .map(({ report, source }, t) => {
      const s = report.settings;
      const title = `${report.device.title}\n${report.token.library.description} ${report.token.library.version}\n${report.startedAt}, ${s.seconds} s per operation, up to ${s.sessions} session(s)${source ? `\n${source}` : ""}`;
      return `<span class="lg" title="${escapeHtml(title)}"><i class="sw sp-t${t % 6}"></i>${escapeHtml(tokenName(report))}</span>`;
    })
    .join("");
  const rows = ids.map((id) => {
    const per = byId.get(id)!;
    const first = per.find((r): r is SpeedResult => !!r)!;
    const max = Math.max(1e-9, ...per.flatMap((r) => r?.figures.map((f) => f.harness.opsPerSecond) ?? []));
    const bars = sources
      .map(({ report }, t) => {
        const r = per[t];
        const who = escapeHtml(tokenName(report));
        if (!r)
          return `<div class="sp-row"><span class="sp-who">${who}</span><span class="sp-none">not measured</span></div>`;
        if (r.status !== "measured")
          return `<div class="sp-row"><span class="sp-who">${who}</span><span class="sp-none" title="${escapeHtml(r.message ?? "")}">${escapeHtml(r.status)}</span></div>`;
        return r.figures
          .map((f) => {
            const width = Math.max(0.5, (f.harness.opsPerSecond / max) * 100).toFixed(1);
            const bad = f.harness.errors + (f.raw?.errors ?? 0);
            return `<div class="sp-row" title="${escapeHtml(tip(r, f))}"><span class="sp-who">${who}${f.sessions > 1 ? ` <small>×${f.sessions}</small>` : ""}</span><span class="sp-track"><span class="sp-bar sp-t${t % 6}${f.sessions > 1 ? " sp-par" : ""}" style="width:${width}%"></span></span><span class="sp-val">${escapeHtml(figure(f.harness.opsPerSecond))}${f.ratio !== undefined ? ` <small>vs raw ${escapeHtml(f.ratio)}</small>` : ""}${bad ? ` <b class="k-bad">${bad} wrong or failed</b>` : ""}</span></div>`;
          })
          .join("");
      })
      .join("");
    const what = [first.op, first.mechanism, first.key, bytes(first.dataBytes)].filter(Boolean).join(" · ");
    return `<section class="sp-op"><h3>${escapeHtml(what)}</h3>${bars}</section>`;
  });
  return `<div class="legend">${legend}<span class="lg">operations per second through the harness, each result checked (hover a bar: latency, raw pkcs11js loop, ratio = harness / raw ops/s); ×N: N sessions at once</span></div><div class="sp-chart">${rows.join("")}</div>`;
}

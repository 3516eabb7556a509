// A speed report as text: one row per operation and setting (one session, then several), with the
// harness's figures beside the raw pkcs11js loop's, and the operations that could not be measured.
import type { SpeedReport, SpeedResult } from "../contract/speed.js";

/** 1024 -> "1 KiB", 1048576 -> "1 MiB". */
export function bytes(n: number | undefined): string {
  if (n === undefined) return "";
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

/** Three significant digits, thousands grouped. */
export function figure(x: number): string {
  if (!Number.isFinite(x) || x === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** What the row is: "sign CKM_ECDSA P-256 1 KiB". */
export function speedLabel(r: SpeedResult): string {
  return [r.op, r.mechanism, r.key, bytes(r.dataBytes)].filter(Boolean).join(" ");
}

export function speedTable(report: SpeedReport): string {
  const t = report.token;
  const lines = [
    `${report.device.profile}: ${t.token.label} (${t.token.manufacturer} ${t.token.model}), ${t.library.description} ${t.library.version}`,
    `${report.settings.seconds} s per operation and setting; ops/s = 1 / median time inside an operation's calls (checks outside the timing), sessions added up; ratio = harness / raw pkcs11js ops/s (1: the harness costs nothing)`,
    "",
    "| operation | mechanism | key | data | sessions | ops/s | median µs | p99 µs | raw ops/s | raw median µs | ratio | errors |",
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const skipped: string[] = [];
  for (const r of report.results) {
    if (r.status !== "measured") {
      skipped.push(`- ${speedLabel(r)}: ${r.status}${r.message ? ` (${r.message})` : ""}`);
      continue;
    }
    for (const f of r.figures) {
      const h = f.harness;
      lines.push(
        `| ${r.op} | ${r.mechanism} | ${r.key ?? ""} | ${bytes(r.dataBytes)} | ${f.sessions} | ${figure(h.opsPerSecond)} | ${figure(h.latencyUs.median)} | ${figure(h.latencyUs.p99)} | ${f.raw ? figure(f.raw.opsPerSecond) : ""} | ${f.raw ? figure(f.raw.latencyUs.median) : ""} | ${f.ratio ?? ""} | ${h.errors + (f.raw?.errors ?? 0)} |`,
      );
      if (f.firstError) skipped.push(`- ${speedLabel(r)} (${f.sessions} session(s)): first error: ${f.firstError}`);
    }
  }
  if (skipped.length) lines.push("", "Not measured, or with errors:", ...skipped);
  if (report.notes.length) lines.push("", "Notes:", ...report.notes.map((n) => `- ${n}`));
  return `${lines.join("\n")}\n`;
}

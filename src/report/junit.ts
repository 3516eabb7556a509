// JUnit XML, so CI systems show cases natively: one testsuite per suite, one testcase per case.
// JUnit knows no "unsupported": such cases are reported as skipped, with the reason.
import type { CaseResult, Report } from "../contract/report.js";
import { evidence } from "./summary.js";

// XML 1.0 forbids these control characters even escaped: stripping them is the point.
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
const xml = (s: string) =>
  s
    .replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!)
    .replace(XML_INVALID, "");

export function renderJunit(report: Report): string {
  const bySuite = new Map<string, CaseResult[]>();
  for (const c of report.cases) bySuite.set(c.suite, [...(bySuite.get(c.suite) ?? []), c]);
  const name = `${report.device.profile}`;
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="p11compat ${xml(name)}" tests="${report.cases.length}" failures="${report.summary.fail}" errors="${report.summary.error}" skipped="${report.summary.skipped + report.summary.unsupported}">`,
  ];
  for (const [suite, cases] of bySuite) {
    const count = (o: string) => cases.filter((c) => c.outcome === o).length;
    const time = cases.reduce((n, c) => n + c.durationMs, 0) / 1000;
    out.push(
      `  <testsuite name="${xml(`${name}.${suite}`)}" tests="${cases.length}" failures="${count("fail")}" errors="${count("error")}" skipped="${count("skipped") + count("unsupported")}" time="${time.toFixed(3)}" timestamp="${report.startedAt}">`,
    );
    for (const c of cases) {
      const open = `    <testcase classname="${xml(`${name}.${suite}`)}" name="${xml(c.id)}" time="${(c.durationMs / 1000).toFixed(4)}"`;
      const why = xml(evidence(c));
      switch (c.outcome) {
        case "pass":
          out.push(`${open}/>`);
          break;
        case "fail":
          out.push(
            `${open}>`,
            `      <failure message="${why}" type="${xml(c.ckr?.name ?? "verification")}">${why}</failure>`,
            "    </testcase>",
          );
          break;
        case "error":
          out.push(`${open}>`, `      <error message="${why}" type="harness">${why}</error>`, "    </testcase>");
          break;
        default:
          out.push(`${open}>`, `      <skipped message="${xml(c.outcome)}: ${why}"/>`, "    </testcase>");
      }
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

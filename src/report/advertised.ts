// What the token advertises (C_GetMechanismList, C_GetMechanismInfo) against what the run saw.
import { code } from "../pkcs11/constants.js";
import { OP_FLAGS } from "../catalogue/mechanisms.js";
import type { AdvertisedVsActual, CaseResult, Finding, Report } from "../contract/report.js";

/** The flags (any one of them) that claim an operation, as one bit mask. */
function claimMask(op: string): { mask: number; name: string } | undefined {
  const flags = OP_FLAGS[op];
  if (!flags) return undefined;
  return {
    mask: flags.reduce((m, f) => m | code(f), 0),
    name: flags.length > 1 ? "CKF_GENERATE(_KEY_PAIR)" : flags[0]!,
  };
}

export function compareAdvertised(report: Pick<Report, "mechanisms" | "cases">): AdvertisedVsActual {
  const advertised = new Map(report.mechanisms.map((m) => [m.name, m]));
  const findings: Finding[] = [];
  const used = new Map<
    string,
    { passed: Set<string>; tried: Set<string>; passCases: CaseResult[]; failCases: CaseResult[] }
  >();
  const entry = (name: string) => {
    let e = used.get(name);
    if (!e) used.set(name, (e = { passed: new Set(), tried: new Set(), passCases: [], failCases: [] }));
    return e;
  };
  for (const c of report.cases) {
    for (const u of c.uses ?? []) {
      const e = entry(u.mechanism);
      e.tried.add(u.op);
      if (c.outcome === "pass") {
        e.passed.add(u.op);
        if (!e.passCases.includes(c)) e.passCases.push(c);
      }
    }
    if ((c.outcome === "fail" || c.outcome === "unsupported") && c.mechanism) entry(c.mechanism).failCases.push(c);
  }
  const ids = (cs: CaseResult[]) => cs.slice(0, 5).map((c) => c.id);

  for (const [name, e] of used) {
    const info = advertised.get(name);
    if (info && e.failCases.length && !e.passCases.length) {
      findings.push({
        mechanism: name,
        kind: "advertised-but-failing",
        detail: `advertised, but all ${e.failCases.length} case(s) using it failed: ${e.failCases[0]!.message}`,
        cases: ids(e.failCases),
      });
    }
    if (!info && e.passCases.length) {
      findings.push({
        mechanism: name,
        kind: "working-not-advertised",
        detail: `not in C_GetMechanismList, yet ${e.passCases.length} case(s) using it passed`,
        cases: ids(e.passCases),
      });
    }
    if (!info) continue;
    for (const op of e.tried) {
      const flag = claimMask(op);
      if (!flag) continue;
      const claimed = (info.flags & flag.mask) !== 0;
      if (claimed && !e.passed.has(op)) {
        findings.push({
          mechanism: name,
          kind: "flag-not-working",
          detail: `claims ${flag.name}, but no ${op} case with it passed`,
          cases: ids(e.failCases),
        });
      }
      if (!claimed && e.passed.has(op)) {
        findings.push({
          mechanism: name,
          kind: "working-without-flag",
          detail: `${op} works, but ${flag.name} is not set`,
          cases: ids(e.passCases),
        });
      }
    }
  }

  for (const c of report.cases) {
    for (const u of c.uses ?? []) {
      const info = advertised.get(u.mechanism);
      if (u.op !== "generate" || u.keySize === undefined || !info || (info.minKeySize === 0 && info.maxKeySize === 0))
        continue;
      const inside = u.keySize >= info.minKeySize && u.keySize <= info.maxKeySize;
      const range = `${info.minKeySize}..${info.maxKeySize}`;
      if (c.outcome === "pass" && !inside) {
        findings.push({
          mechanism: u.mechanism,
          kind: "size-accepted-outside-range",
          detail: `key size ${u.keySize} works, outside the advertised ${range}`,
          cases: [c.id],
        });
      }
      if (c.ckr?.name === "CKR_KEY_SIZE_RANGE" && c.mechanism === u.mechanism && inside) {
        findings.push({
          mechanism: u.mechanism,
          kind: "size-rejected-inside-range",
          detail: `key size ${u.keySize} rejected (CKR_KEY_SIZE_RANGE), inside the advertised ${range}`,
          cases: [c.id],
        });
      }
    }
  }

  return {
    findings: dedupe(findings),
    unstable: report.mechanisms
      .filter((m) => m.unstable?.length)
      .map((m) => ({ mechanism: m.name, fields: m.unstable! })),
    notExercised: report.mechanisms.filter((m) => !used.has(m.name)).map((m) => m.name),
  };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) {
    const key = `${f.mechanism}|${f.kind}|${f.detail}`;
    const prev = seen.get(key);
    if (prev) prev.cases = [...new Set([...prev.cases, ...f.cases])].slice(0, 5);
    else seen.set(key, f);
  }
  return [...seen.values()];
}

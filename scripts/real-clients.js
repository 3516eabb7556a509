#!/usr/bin/env node
// Real clients against their profiles: each scripts/real-clients/*.sh (a real program doing what its
// profile's needs say) runs under `p11compat exec` on a fresh token of each device, and its real
// outcome (works: exit 0 / fails, with its own last error line) is compared with the profile's
// verdict on that device (a `p11compat clients --format json` file). A disagreement fails, unless the
// script explains it (`# disagrees: DEVICE reason`). Writes OUT/real-clients.json.
//   node scripts/real-clients.js OUT VERDICTS.json DEVICE...
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const [out, verdictsFile, ...devices] = process.argv.slice(2);
if (!out || !verdictsFile || devices.length === 0) {
  console.error("usage: node scripts/real-clients.js OUT VERDICTS.json DEVICE...");
  process.exit(2);
}
/** @type {{suite: string, device: string, verdict: string}[]} */
const verdicts = JSON.parse(readFileSync(verdictsFile, "utf8"));
const dir = "scripts/real-clients";
const scripts = readdirSync(dir).filter((f) => f.endsWith(".sh") && f !== "lib.sh");
/** Header lines of a script: `# key: value`. @param {string} text @param {string} key */
const header = (text, key) =>
  [...text.matchAll(new RegExp(`^# ${key}: (.*)$`, "gm"))].map((m) => /** @type {string} */ (m[1]).trim());
/** Whether the device's module needs C_Initialize parameters (NSS softokn). @param {string} device */
const needsParameters = (device) =>
  /^libraryParameters:/m.test(readFileSync(path.join("devices", `${device}.yaml`), "utf8"));

mkdirSync(out, { recursive: true });
const rows = [];
for (const script of scripts) {
  const text = readFileSync(path.join(dir, script), "utf8");
  const profile = header(text, "profile")[0] ?? script.replace(/\.sh$/, "");
  const explained = new Map(
    header(text, "disagrees").map((l) => {
      const [device, ...why] = l.split(/\s+/);
      return [device, why.join(" ")];
    }),
  );
  for (const device of devices) {
    const verdict = verdicts.find((v) => v.suite === profile && v.device === device)?.verdict;
    const row = { client: script.replace(/\.sh$/, ""), profile, device, verdict: verdict ?? "no verdict" };
    if (needsParameters(device) && !header(text, "library-parameters").includes("yes")) {
      rows.push({
        ...row,
        real: "cannot run",
        why: "the module takes its database from C_Initialize parameters, which this client cannot pass",
        agree: null,
      });
      continue;
    }
    const t0 = Date.now();
    const r = spawnSync(
      "node",
      ["bin/p11compat.js", "exec", "--device", device, "--timeout", "120", "--", "sh", path.join(dir, script)],
      {
        encoding: "utf8",
        timeout: 300_000,
      },
    );
    writeFileSync(path.join(out, `${device}-${row.client}.log`), `${r.stdout ?? ""}${r.stderr ?? ""}`);
    if (r.status === 125) {
      // p11compat itself could not set the token up: no outcome of the client's to compare.
      const why =
        (r.stderr ?? "")
          .trim()
          .split("\n")
          .find((l) => l.startsWith("p11compat:")) ?? "p11compat exec failed";
      rows.push({ ...row, real: "not run", why, agree: null, setupFailed: true });
      continue;
    }
    const works = r.status === 0;
    const lastError = (r.stderr ?? "").trim().split("\n").filter(Boolean).at(-1) ?? "";
    const agree = verdict === undefined ? null : works === (verdict !== "does not work");
    rows.push({
      ...row,
      real: works ? "works" : "fails",
      ...(works ? {} : { why: lastError }),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      agree,
      ...(agree === false && explained.has(device) ? { explained: explained.get(device) } : {}),
    });
  }
}
writeFileSync(path.join(out, "real-clients.json"), `${JSON.stringify(rows, null, 2)}\n`);
for (const r of rows) {
  const mark = r.agree === null ? "-" : r.agree ? "agree" : r.explained ? "differs (explained)" : "DISAGREE";
  console.log(
    `${r.client.padEnd(14)} ${r.device.padEnd(16)} real: ${r.real.padEnd(10)} profile: ${r.verdict.padEnd(18)} ${mark}${r.why && r.agree !== true ? `  (${r.why})` : ""}${r.explained ? `  [${r.explained}]` : ""}`,
  );
}
const notRun = rows.filter((r) => r.setupFailed);
if (notRun.length) console.error(`${notRun.length} real client run(s) could not be set up (see above)`);
const bad = rows.filter((r) => r.agree === false && !r.explained);
if (bad.length || notRun.length) {
  console.error(`${bad.length} real client outcome(s) disagree with their profile's verdict (see ${out}/*.log)`);
  process.exit(1);
}

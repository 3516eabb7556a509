// The opencryptoki profile on the real openCryptoki soft token (3.8 on Debian 12, 3.23 on Debian 13;
// what differs is asserted by the installed version, docs/debian13.md). openCryptoki keeps machine-wide
// state; the profile saves it, initialises a fresh token and puts everything back: this test checks
// that byte for byte (with a marker file in the soft token's directory), that a second run is
// refused while one holds the machine, and that no process is left.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { caseIn, casesOf, runOn } from "./helpers.js";
import {
  debianVersion,
  newProcesses,
  processes,
  requireDevice,
  tmpEntries,
  versionAtLeast,
  type Proc,
} from "./devices-helpers.js";
import { provision } from "../../src/device/provision.js";
import type { DeviceProfile } from "../../src/device/model.js";
import type { Report } from "../../src/contract/report.js";

const ROOTS = [
  "/var/lib/opencryptoki",
  "/var/lock/opencryptoki",
  "/var/log/opencryptoki",
  "/var/run/pkcsslotd.pid",
  "/var/run/pkcsslotd.socket",
];
const SWTOK = "/var/lib/opencryptoki/swtok";
const MARKER = path.join(SWTOK, "p11compat-test-marker");
const DAEMONS = /^(pkcsslotd|flock|sleep infinity)|^\[(pkcsslotd|flock|sleep)\]/;

/** Every path openCryptoki uses, with a digest of each file, and pkcsslotd's shared memory keys. */
function machineState(): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      out.push(`${p}/ ${st.mode.toString(8)} ${st.uid}:${st.gid}`);
      for (const e of readdirSync(p)) walk(path.join(p, e));
    } else {
      const digest = st.isFile() ? createHash("sha256").update(readFileSync(p)).digest("hex").slice(0, 16) : "special";
      out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${digest}`);
    }
  };
  ROOTS.forEach(walk);
  for (const e of readdirSync("/dev/shm")) if (e.startsWith("var.lib.opencryptoki.")) walk(path.join("/dev/shm", e));
  const shm = execFileSync("ipcs", ["-m"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith("0x"))
    .map((l) => `shm ${l.split(/\s+/)[0]}`);
  return [...out, ...shm].sort();
}

let profile: DeviceProfile;
let report: Report;
let before: string[];
let after: string[];
let duringRun: { marker: boolean; procs: Proc[] } = { marker: true, procs: [] };
let leftProcs: Proc[];
let leftDirs: string[];

beforeAll(async () => {
  profile = await requireDevice("opencryptoki");
  writeFileSync(MARKER, "left by devices-opencryptoki.test.ts; restored by the profile's tear-down\n");
  before = machineState();
  const procsBefore = processes(DAEMONS);
  const dirsBefore = tmpEntries("p11compat-opencryptoki-");
  const cases = await casesOf(["keys", "sign", "encrypt", "wrap", "objects", "session"], (id) =>
    /keys\/make\[key=(p-256|rsa-2048),|rsa-pkcs1\[key=rsa-2048,source=generate|AES_GCM,parts=1|rsa-oaep-unwrap\[key=rsa-2048,source=generate,mechanism=OAEP-sha256|objects\/secret-object|session\//.test(
      id,
    ),
  );
  ({ report } = await runOn(profile, cases, {
    onStart: () => void (duringRun = { marker: existsSync(MARKER), procs: newProcesses(procsBefore, DAEMONS) }),
  }));
  after = machineState();
  leftProcs = newProcesses(procsBefore, DAEMONS);
  leftDirs = tmpEntries("p11compat-opencryptoki-").filter((d) => !dirsBefore.includes(d));
}, 120_000);

afterAll(() => rmSync(MARKER, { force: true }));

const byId = (id: string) => caseIn(report, id);

/** The installed openCryptoki: 3.8.1 on Debian 12, 3.23.0 on Debian 13 (versions between were not measured). */
const OCK = debianVersion("opencryptoki");
const OCK_323 = versionAtLeast(OCK, "3.23");

describe(`openCryptoki ${OCK} soft token (devices/opencryptoki.yaml)`, () => {
  it("runs every case to an outcome that is not a harness error, on a freshly initialised token", () => {
    expect(report.status).toBe("complete");
    expect(report.cases.filter((c) => c.outcome === "error").map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(report.token.library.description).toMatch(OCK_323 ? /^openCryptoki$/ : /Meta PKCS11/);
    expect(report.token.token).toMatchObject({ label: "p11compat", model: OCK_323 ? "Soft" : "IBM SoftTok" });
    expect(report.run.notes).toEqual([]);
    expect(duringRun.marker).toBe(false); // the soft token's directory was emptied for the run
  });

  it(`passes RSA with node:crypto's checks and ${OCK_323 ? "SHA-256 RSA, P-256 and AES-GCM, which 3.8 lacks" : "marks the mechanisms 3.8 lacks unsupported"}`, () => {
    expect(byId("sign/rsa-pkcs1[key=rsa-2048,source=generate,mechanism=SHA1_RSA_PKCS,parts=3]").outcome).toBe("pass");
    if (OCK_323) {
      for (const id of [
        "sign/rsa-pkcs1[key=rsa-2048,source=generate,mechanism=SHA256_RSA_PKCS,parts=1]",
        "keys/make[key=p-256,source=generate]",
        "encrypt/aes[key=aes-128,source=generate,mechanism=AES_GCM,parts=1]",
      ]) {
        expect([id, byId(id).outcome]).toEqual([id, "pass"]);
      }
      return;
    }
    expect(byId("sign/rsa-pkcs1[key=rsa-2048,source=generate,mechanism=SHA256_RSA_PKCS,parts=1]")).toMatchObject({
      outcome: "unsupported",
      function: "C_SignInit",
      ckr: { name: "CKR_MECHANISM_INVALID", code: 0x70 },
    });
    expect(byId("keys/make[key=p-256,source=generate]")).toMatchObject({
      outcome: "unsupported",
      function: "C_GenerateKeyPair",
      ckr: { name: "CKR_MECHANISM_INVALID" },
    });
    expect(byId("encrypt/aes[key=aes-128,source=generate,mechanism=AES_GCM,parts=1]").message).toContain(
      "CKM_AES_GCM is not in the token's mechanism list",
    );
  });

  it("fails C_UnwrapKey with CKA_SENSITIVE in the template, and diagnoses it", () => {
    const c = byId("wrap/rsa-oaep-unwrap[key=rsa-2048,source=generate,mechanism=OAEP-sha256,target=aes-128]");
    expect(c).toMatchObject({
      outcome: "fail",
      function: "C_UnwrapKey",
      ckr: { name: "CKR_ATTRIBUTE_READ_ONLY", code: 0x10 },
      attribute: "CKA_SENSITIVE",
    });
    expect(c.diagnosis!.summary).toContain("CKA_EXTRACTABLE cannot be set by the caller");
    // 3.8 cannot read back a generic secret's attributes; 3.23 can
    expect(byId("objects/secret-object")).toMatchObject(
      OCK_323
        ? { outcome: "pass" }
        : { outcome: "fail", function: "C_GetAttributeValue", ckr: { name: "CKR_ATTRIBUTE_TYPE_INVALID" } },
    );
  });

  it("ran its own pkcsslotd and puts the machine's openCryptoki state back exactly", () => {
    expect(duringRun.procs.map((p) => p.cmd)).toEqual(expect.arrayContaining(["pkcsslotd -f"]));
    expect(after).toEqual(before);
    expect(existsSync(MARKER)).toBe(true);
    expect(leftProcs).toEqual([]);
    expect(leftDirs).toEqual([]);
  });

  it("refuses a second set-up while a run holds openCryptoki, and leaves the first undisturbed", async () => {
    const procsBefore = processes(DAEMONS);
    const first = await provision(profile, { runTag: "first" });
    try {
      await expect(provision(profile, { runTag: "second" })).rejects.toThrow(
        /another run holds the lock on \/var\/lib\/opencryptoki/,
      );
      expect(processes(/^pkcsslotd/).length).toBe(1);
    } finally {
      await first.teardown();
    }
    expect(machineState()).toEqual(before);
    expect(newProcesses(procsBefore, DAEMONS)).toEqual([]);
  }, 60_000);

  it("refuses to start while another process holds the lock, and its tear-down then changes nothing", async () => {
    const holder = spawn("sh", ["-c", "exec 9</var/lib/opencryptoki && flock 9 && echo locked && exec sleep 60"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
      const procsBefore = processes(DAEMONS);
      await expect(provision(profile, { runTag: "locked" })).rejects.toThrow(
        /daemon lock .* exited with 1:\s+another run holds the lock/,
      );
      expect(newProcesses(procsBefore, DAEMONS)).toEqual([]);
      expect(machineState()).toEqual(before);
    } finally {
      holder.kill("SIGKILL");
    }
  }, 60_000);
});

describe("openCryptoki after a run that died", () => {
  it("is put back by the next run: soft token, shared memory, and the dead run's pkcsslotd stopped", async () => {
    const { execa } = await import("execa");
    const { CLI, ROOT, tmpDir } = await import("./helpers.js");
    const { readReport } = await import("../../src/report/read.js");
    const start = machineState();
    expect(existsSync(MARKER)).toBe(true);
    const dirsBefore = tmpEntries("p11compat-opencryptoki-");
    const out = tmpDir("oc-killed");
    const child = execa("node", [CLI, "run", "--device", "opencryptoki", "--suite", "sign", "--out", out, "--quiet"], {
      cwd: ROOT,
      reject: false,
    });
    // Killed once it is running cases: the fresh token replaced the real one, pkcsslotd is ours.
    // Read while the run writes it: a read can straddle a write (the old trailer, then the new bytes);
    // such a read is retried, a report is valid between writes and after a kill.
    const casesSoFar = (file: string) => {
      try {
        return readReport(path.join(out, file)).cases.length;
      } catch {
        return 0;
      }
    };
    for (let t0 = Date.now(); ;) {
      const file = readdirSync(out).find((f) => f.endsWith(".json"));
      if (file && casesSoFar(file) >= 3) break;
      if (Date.now() - t0 > 60_000) throw new Error("the run did not start cases");
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await child;
    expect(existsSync(MARKER)).toBe(false);
    // The next set-up finds the saved copy and undoes the dead run before anything else.
    const next = await provision(profile, { runTag: "after-death" });
    await next.teardown();
    expect(machineState()).toEqual(start);
    expect(existsSync(MARKER)).toBe(true);
    expect(processes(/^pkcsslotd/)).toEqual([]);
    for (const d of tmpEntries("p11compat-opencryptoki-").filter((x) => !dirsBefore.includes(x)))
      rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
  }, 120_000);
});

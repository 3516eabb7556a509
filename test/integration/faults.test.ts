// A hostile module (test/fixtures/faulty-module/faulty.c, SoftHSM behind it) against the harness:
// a crash, a hang or an abort() costs exactly the case it hits; a length claimed beyond the buffer is
// that call's `fail`, naming the function and the lengths, and no byte past a buffer reaches an output.
import { describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { CLI, ROOT, caseIn, casesOf, runOn, tmpDir } from "./helpers.js";
import { faultyModule, faultyProfile, type Fault } from "./faulty-module.js";
import { runCases } from "../../src/runner/run.js";
import { readReport } from "../../src/report/read.js";

const CKA_VALUE = 0x11;
const CKA_MODULUS = 0x120;
const CANARY = "P11CANRY";

const digestCases = () => casesOf(["digest"]);
const one = { workers: 1 };

async function runWith(fault: Fault, cases: Awaited<ReturnType<typeof digestCases>>) {
  return runOn(await faultyProfile(fault, one), cases);
}

describe("a module that dies or stops answering costs the case it was in", () => {
  for (const [kind, signal] of [
    ["crash", "SIGSEGV"],
    ["abort", "SIGABRT"],
  ] as const) {
    it(`${kind} in C_Digest: that case is an error naming C_Digest and its calls; the others pass`, async () => {
      const cases = await digestCases();
      const { report } = await runWith({ kind, fn: "C_Digest", once: true }, cases);
      const errors = report.cases.filter((c) => c.outcome === "error");
      expect(errors).toHaveLength(1);
      const [hit] = errors;
      expect(hit!.function).toBe("C_Digest");
      expect(hit!.message).toMatch(new RegExp(`^C_Digest: the worker process killed by ${signal}`));
      expect(hit!.message).toMatch(/a fresh worker runs the next case$/);
      expect(hit!.trace?.map((t) => t.fn)).toEqual(["C_DigestInit", "C_Digest"]);
      expect(hit!.trace?.[0]?.rv).toBe("CKR_OK");
      expect(hit!.trace?.[1]?.rv).toMatch(/did not return/);
      expect(report.cases.filter((c) => c !== hit).every((c) => c.outcome === "pass")).toBe(true);
      expect(report.run.workerRestarts).toBe(1);
      expect(report.status).toBe("complete");
    });
  }

  it("a hang in C_Digest: that case is an error after the 2 s case time-out; the others pass", async () => {
    const cases = await digestCases();
    const { report } = await runWith({ kind: "hang", fn: "C_Digest", once: true }, cases);
    const errors = report.cases.filter((c) => c.outcome === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.function).toBe("C_Digest");
    expect(errors[0]!.message).toMatch(/^C_Digest: no answer within 2 s: the module hung; worker killed/);
    expect(errors[0]!.durationMs).toBeGreaterThanOrEqual(1900);
    expect(report.cases.filter((c) => c.outcome === "pass")).toHaveLength(cases.length - 1);
  });

  it("a hang in C_Finalize at the end of the run: the run finishes and says so", async () => {
    const cases = (await digestCases()).slice(0, 2);
    const t0 = Date.now();
    const { report } = await runWith({ kind: "finalizehang" }, cases);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(report.status).toBe("complete");
    expect(report.cases.every((c) => c.outcome === "pass")).toBe(true);
    expect(report.run.notes).toContain("C_Finalize did not return within 2 s at the end of the run: worker killed");
  });
});

describe("C_Initialize failing", () => {
  it("at the first start: the run does not start, and says C_Initialize failed", async () => {
    const profile = await faultyProfile({ kind: "initfail" }, one);
    const cases = (await digestCases()).slice(0, 2);
    await expect(
      runCases({ profile, cases, suites: ["digest"], outDir: tmpDir("initfail"), trace: "failed" }),
    ).rejects.toThrow(/C_Initialize returned CKR_DEVICE_ERROR \(0x30\)/);
  });

  it("after a crash: the crashed case and the aborted report say why the run stopped, restarts counted", async () => {
    const profile = await faultyProfile({ kind: "crash", fn: "C_Digest", once: true, initFailsAfter: true }, one);
    const cases = await digestCases();
    const outDir = tmpDir("restartfail");
    await expect(runCases({ profile, cases, suites: ["digest"], outDir, trace: "failed" })).rejects.toThrow(
      /C_Initialize returned CKR_DEVICE_ERROR/,
    );
    const file = readdirSync(outDir).find((f) => f.endsWith(".json"))!;
    const report = readReport(path.join(outDir, file));
    expect(report.status).toBe("aborted");
    expect(report.run.workerRestarts).toBe(1);
    expect(report.run.notes.some((n) => /^run aborted: .*C_Initialize returned CKR_DEVICE_ERROR/.test(n))).toBe(true);
    const crashed = report.cases.find((c) => c.outcome === "error")!;
    expect(crashed.function).toBe("C_Digest");
    expect(crashed.message).not.toMatch(/a fresh worker runs the next case/);
    expect(crashed.message).toMatch(
      /no fresh worker could start \(.*C_Initialize returned CKR_DEVICE_ERROR.*\): the run stops$/,
    );
    // Every case before the crash passed, and none is recorded after it.
    expect(report.cases.at(-1)).toBe(crashed);
    expect(report.cases.slice(0, -1).every((c) => c.outcome === "pass")).toBe(true);
  });
});

describe("lengths claimed beyond the buffer are the module's fail", () => {
  it("C_Digest claiming 64 bytes more than its buffer: fail at C_Digest with both lengths", async () => {
    const cases = await digestCases();
    const { report } = await runWith({ kind: "longlen", fn: "C_Digest" }, cases);
    for (const c of report.cases) {
      if (c.params.parts === 1) {
        expect(c.outcome).toBe("fail");
        expect(c.function).toBe("C_Digest");
        expect(c.message).toBe(
          "C_Digest returned CKR_OK claiming 192 bytes, more than the 128-byte buffer it was given: the module's fault (none of it was read)",
        );
      } else expect(c.outcome).toBe("pass");
    }
  });

  it("C_DigestFinal claiming a garbage length: fail at C_DigestFinal naming it", async () => {
    const cases = (await digestCases()).filter((c) => c.params.parts !== 1);
    const { report } = await runWith({ kind: "garbagelen", fn: "C_DigestFinal" }, cases);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of report.cases) {
      expect(c.outcome).toBe("fail");
      expect(c.function).toBe("C_DigestFinal");
      expect(c.message).toMatch(
        new RegExp(
          `^C_DigestFinal returned CKR_OK claiming ${0xdeadbeefcafef00dn} bytes, more than the 128-byte buffer`,
        ),
      );
    }
  });

  it("C_GetMechanismList listing more than the count it gave: the run does not start, and says why", async () => {
    const profile = await faultyProfile({ kind: "longlen", fn: "C_GetMechanismList" }, one);
    const cases = (await digestCases()).slice(0, 1);
    await expect(
      runCases({ profile, cases, suites: ["digest"], outDir: tmpDir("mechlist"), trace: "failed" }),
    ).rejects.toThrow(
      /C_GetMechanismList returned CKR_OK claiming (\d+) mechanisms, more than the \d+ it said there were/,
    );
  });

  const rsaKey = async () => casesOf(["keys"], (id) => id === "keys/make[key=rsa-2048,source=generate]");

  it("a 2^40-byte CKA_MODULUS: fail at C_GetAttributeValue naming the attribute and the length", async () => {
    const cases = await rsaKey();
    const { report } = await runWith({ kind: "hugelen", fn: "C_GetAttributeValue", attribute: CKA_MODULUS }, cases);
    const c = caseIn(report, cases[0]!.id);
    expect(c.outcome).toBe("fail");
    expect(c.function).toBe("C_GetAttributeValue");
    expect(c.attribute).toBe("CKA_MODULUS");
    expect(c.message).toBe(
      "C_GetAttributeValue returned CKR_OK claiming 1099511627776 bytes for CKA_MODULUS, more than the 64 MiB p11compat takes for one attribute: the module's fault (none of it was read)",
    );
  });

  it("a CKA_MODULUS 64 bytes longer than its buffer: the length is named, not a symptom of it", async () => {
    const cases = await rsaKey();
    const { report } = await runWith({ kind: "longlen", fn: "C_GetAttributeValue", attribute: CKA_MODULUS }, cases);
    const c = caseIn(report, cases[0]!.id);
    expect(c.outcome).toBe("fail");
    expect(c.attribute).toBe("CKA_MODULUS");
    expect(c.message).toMatch(
      /^C_GetAttributeValue returned CKR_OK claiming 320 bytes for CKA_MODULUS, more than the 256-byte buffer/,
    );
    expect(c.message).not.toMatch(/even|odd|bits/);
  });
});

describe("no byte past a buffer reaches any output", () => {
  // A token of our own for the raw pkcs11js check (PINs on the command line are fine in a test).
  function softhsmToken(): Record<string, string> {
    const dir = tmpDir("rawtoken");
    mkdirSync(path.join(dir, "tokens"));
    const conf = path.join(dir, "softhsm2.conf");
    writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nlog.level = ERROR\n`);
    const env = { ...process.env, SOFTHSM2_CONF: conf } as Record<string, string>;
    execFileSync(
      "softhsm2-util",
      ["--init-token", "--free", "--label", "raw", "--so-pin", "12345678", "--pin", "1234"],
      {
        env,
        stdio: "ignore",
      },
    );
    return env;
  }

  const leakEnv = { P11FAULT: "longlen", P11FAULT_FN: "C_GetAttributeValue", P11FAULT_ATTR: String(CKA_VALUE) };

  it("the fault module does leak memory through raw pkcs11js (the check below can see a leak)", () => {
    const script = path.join(ROOT, "test", "integration", "faults-raw-read.mjs");
    const out = execFileSync(process.execPath, [script, faultyModule()], {
      env: { ...softhsmToken(), ...leakEnv, NODE_OPTIONS: "" },
      cwd: ROOT,
    }).toString();
    const { length, value } = JSON.parse(out) as { length: number; value: string };
    expect(length).toBe(4 + 64); // pkcs11js copied what the module claimed
    expect(Buffer.from(value, "hex").toString("latin1")).toContain(CANARY);
  });

  it("p11compat reports the claim and prints none of it: report JSON and Markdown, stdout, stderr", async () => {
    const out = tmpDir("leak");
    const run = await execa(
      "node",
      [
        CLI,
        "run",
        "--device",
        "softhsm",
        "--suite",
        "objects",
        "--module",
        faultyModule(),
        "--out",
        out,
        "--trace",
        "all",
        "--workers",
        "1",
      ],
      { cwd: ROOT, env: leakEnv, reject: false },
    );
    expect(run.exitCode).toBe(0);
    const files = readdirSync(out).map((f) => readFileSync(path.join(out, f), "latin1"));
    const json = readdirSync(out).find((f) => f.endsWith(".json"))!;
    const report = readReport(path.join(out, json));
    const hit = caseIn(report, "objects/data-lifecycle");
    expect(hit.outcome).toBe("fail");
    expect(hit.function).toBe("C_GetAttributeValue");
    expect(hit.message).toMatch(/claiming 68 bytes for CKA_VALUE, more than the 4-byte buffer/);
    const canaryHex = Buffer.from(CANARY).toString("hex");
    // As text, hex or base64 (at each of the three alignments).
    const canary64 = [0, 1, 2].map((k) =>
      Buffer.from("xx" + CANARY.repeat(3))
        .subarray(k)
        .toString("base64")
        .slice(4, 12),
    );
    for (const text of [run.stdout, run.stderr, ...files]) {
      expect(text).not.toContain(CANARY);
      expect(text.toLowerCase()).not.toContain(canaryHex);
      for (const b of canary64) expect(text).not.toContain(b);
    }
  }, 60_000);
});

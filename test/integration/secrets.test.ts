// No PIN and no secret key value reaches a report, its Markdown or the console.
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { casesOf, runOn, softhsm } from "./helpers.js";

describe("secrets stay out of outputs", () => {
  it("keeps PINs and key values out of full traces", async () => {
    const userPin = "73915502";
    const soPin = "40981277";
    const profile = await softhsm({ pins: { user: { value: userPin }, so: { value: soPin } } });
    const cases = await casesOf(["session", "objects", "keys"], (id) => !id.includes("rsa-"));
    const { reportPath, report } = await runOn(profile, cases, { trace: "all" });
    const json = readFileSync(reportPath, "utf8");
    const md = readFileSync(reportPath.replace(/\.json$/, ".md"), "utf8");
    for (const text of [json, md]) {
      expect(text).not.toContain(userPin);
      expect(text).not.toContain(soPin);
    }
    const login = report.cases.find((c) => c.id === "session/login-cycle")!;
    expect(login.outcome).toBe("pass");
    expect(login.trace!.find((t) => t.fn === "C_Login")!.args).toEqual({ userType: "CKU_USER", pin: "<redacted>" });
    // The AES key object created from a known value: the value shows only as redacted in the trace.
    const secret = report.cases.find((c) => c.id === "objects/secret-object")!;
    expect(json).not.toContain("000102030405060708090a0b0c0d0e0f");
    const create = secret.trace!.find((t) => t.fn === "C_CreateObject")!;
    expect(JSON.stringify(create.args)).toContain("<redacted 16 bytes>");
  }, 120_000);
});

describe("secrets stay out of the console and of diagnosis", () => {
  it("never prints a PIN taken from the environment, nor shows secret values diagnosis tried", async () => {
    const { execa } = await import("execa");
    const { writeFileSync, readdirSync } = await import("node:fs");
    const path = await import("node:path");
    const { CLI, ROOT, DEVICES, tmpDir } = await import("./helpers.js");
    const dir = tmpDir("secrets");
    const profile = readFileSync(path.join(DEVICES, "softhsm.yaml"), "utf8")
      .replace(/^device: softhsm$/m, "device: softhsm-envpin")
      .replace(/^ {2}user: generate$/m, "  user: { env: P11COMPAT_TEST_PIN }");
    const file = path.join(dir, "softhsm-envpin.yaml");
    writeFileSync(file, profile);
    const pin = "58203917";
    const r = await execa(
      "node",
      [
        CLI,
        "run",
        "--device",
        file,
        "--suite",
        "session",
        "--suite",
        path.join(ROOT, "suites/diagnosis/templates.yaml"),
        "--trace",
        "all",
        "--out",
        dir,
      ],
      {
        cwd: ROOT,
        env: { P11COMPAT_TEST_PIN: pin },
        reject: false,
      },
    );
    expect(r.exitCode).toBe(0);
    const outputs = [
      r.stdout,
      r.stderr,
      ...readdirSync(dir)
        .filter((f) => /\.(json|md)$/.test(f))
        .map((f) => readFileSync(path.join(dir, f), "utf8")),
    ];
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const text of outputs) expect(text).not.toContain(pin);
    // The imported AES key's value in the read-only-on-import case is never shown, even while diagnosing.
    for (const text of outputs) expect(text).not.toContain("000102030405060708090a0b0c0d0e0f");
  }, 120_000);
});

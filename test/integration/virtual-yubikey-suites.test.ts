// p11compat's default suites on the virtual YubiKey through ykcs11 (devices/virtual-yubikey.yaml):
// no case may end in `error`; the YubiKey's real limits show as fail or unsupported with reasons;
// what passes was checked by node:crypto; nothing outlives the run, and the system's pcscd (if any)
// is not touched.
import { describe, it, expect } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { CLI, tmpDir } from "./helpers.js";
import { debianVersion, versionAtLeast } from "./devices-helpers.js";

/** The installed ykcs11: 2.2.0 on Debian 12, 2.7.1 on Debian 13 (versions between were not measured). */
const YKCS11 = debianVersion("ykcs11");
const YKCS11_271 = versionAtLeast(YKCS11, "2.7.1");

interface Case {
  id: string;
  outcome: string;
  function?: string;
  ckr?: { name: string };
  message: string;
  verified?: string[];
}

function ours(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (cmd.includes("p11compat-virtual-yubikey-") && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z")
        out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

function runSuites(suites: string[], env: Record<string, string> = {}) {
  const out = tmpDir("vyk-run");
  const systemSocket = existsSync("/run/pcscd/pcscd.comm");
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [CLI, "run", "--device", "virtual-yubikey", ...suites.flatMap((s) => ["--suite", s]), "--out", out, "--quiet"],
    {
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 180_000,
    },
  );
  const ms = Date.now() - t0;
  expect(r.status).toBe(0);
  expect(existsSync("/run/pcscd/pcscd.comm")).toBe(systemSocket);
  const file = readdirSync(out).find((f) => f.endsWith(".json"))!;
  const report = JSON.parse(readFileSync(path.join(out, file), "utf8"));
  rmSync(out, { recursive: true, force: true });
  const byId = new Map<string, Case>(report.cases.map((c: Case) => [c.id, c]));
  return { report, byId, ms, output: r.stdout + r.stderr };
}

describe("the default suites on a virtual YubiKey through ykcs11", () => {
  it("firmware 5.4.3: no errors; generated keys sign, decrypt and derive; imports and unsupported sizes fail with reasons", () => {
    const { report, byId } = runSuites(["keys", "sign", "encrypt", "derive", "session"]);
    const errors = report.cases.filter((c: Case) => c.outcome === "error");
    expect(errors).toEqual([]);
    expect(report.status).toBe("complete");
    expect(report.token.token.model).toBe("YubiKey YK5");
    expect(report.token.token.firmware).toBe("5.43");
    expect(report.summary.pass).toBeGreaterThanOrEqual(55);

    for (const id of [
      "keys/make[key=rsa-2048,source=generate]",
      "keys/make[key=p-256,source=generate]",
      "keys/make[key=p-384,source=generate]",
    ]) {
      expect(byId.get(id)?.outcome).toBe("pass");
    }
    const ecdsa = byId.get("sign/ecdsa[key=p-256,source=generate,mechanism=ECDSA_SHA256,parts=1]")!;
    expect(ecdsa.outcome).toBe("pass");
    expect(ecdsa.verified!.join()).toContain("signature verified by node:crypto");
    expect(byId.get("sign/rsa-pss[key=rsa-2048,source=generate,mechanism=SHA256_RSA_PKCS_PSS,parts=1]")?.outcome).toBe(
      "pass",
    );
    expect(byId.get("encrypt/rsa-decrypt[key=rsa-2048,source=generate,mechanism=OAEP-sha256]")?.outcome).toBe("pass");
    expect(byId.get("derive/ecdh[key=p-256,source=generate]")?.verified!.join()).toContain(
      "ECDH secret recomputed by node:crypto",
    );

    // ykcs11 2.2.0 generates RSA 1024/2048 only, whatever the firmware (a fail); 2.7.1 knows RSA-3072
    // needs firmware 5.7 and says it does not support it on 5.4.3 (docs/debian13.md).
    const rsa3072 = byId.get("keys/make[key=rsa-3072,source=generate]")!;
    expect(rsa3072).toMatchObject(
      YKCS11_271
        ? { outcome: "unsupported", function: "C_GenerateKeyPair", ckr: { name: "CKR_FUNCTION_NOT_SUPPORTED" } }
        : { outcome: "fail", function: "C_GenerateKeyPair", ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID" } },
    );
    // ykcs11 imports private keys only from a template without usage attributes, and no public keys.
    const imported = byId.get("keys/make[key=p-256,source=import]")!;
    expect(imported.outcome).toBe("fail");
    expect(imported.function).toBe("C_CreateObject");
    // Hashes longer than the curve: ykcs11 2.2.0 does not truncate (CKR_DEVICE_ERROR from libykpiv's size
    // check); 2.7.1 does, and node:crypto verifies the signature (docs/debian13.md).
    expect(byId.get("sign/ecdsa[key=p-256,source=generate,mechanism=ECDSA_SHA384,parts=1]")?.outcome).toBe(
      YKCS11_271 ? "pass" : "fail",
    );
    // No AES, no HMAC on a PIV card.
    expect(byId.get("keys/make[key=aes-128,source=generate]")?.outcome).toBe("unsupported");
    expect(report.run.notes).toEqual([]);
    expect(ours()).toEqual([]);
  });

  it(`firmware 5.7.1: the factory AES-192 management key ${YKCS11_271 ? "works with" : "defeats"} ykcs11 ${YKCS11}'s SO login, and the report says so`, () => {
    const { report, byId } = runSuites(["keys"], { VIRTUAL_YUBIKEY_FIRMWARE: "5.7.1" });
    expect(report.cases.filter((c: Case) => c.outcome === "error")).toEqual([]);
    expect(report.token.token.firmware).toBe("5.71");
    const gen = byId.get("keys/make[key=p-256,source=generate]")!;
    if (YKCS11_271) {
      // 2.7.1 reads the management key's algorithm from the card (docs/debian13.md).
      expect(gen.outcome).toBe("pass");
    } else {
      // 2.2.0 authenticates with 3DES only.
      expect(gen).toMatchObject({ outcome: "fail", function: "C_Login", ckr: { name: "CKR_PIN_INCORRECT" } });
      expect(gen.message).toContain("SO login");
    }
    expect(ours()).toEqual([]);
  });

  it(`firmware 4.3.4: ykcs11 ${YKCS11} ${YKCS11_271 ? "generates" : "refuses"} on-chip RSA (ROCA) and generates EC keys`, () => {
    const { report, byId } = runSuites(["keys"], { VIRTUAL_YUBIKEY_FIRMWARE: "4.3.4" });
    expect(report.cases.filter((c: Case) => c.outcome === "error")).toEqual([]);
    expect(report.token.token.model).toBe("YubiKey YK4");
    // 2.2.0 refuses RSA generation on the ROCA-affected firmware range; 2.7.1 no longer does (docs/debian13.md).
    expect(byId.get("keys/make[key=rsa-2048,source=generate]")).toMatchObject(
      YKCS11_271 ? { outcome: "pass" } : { outcome: "fail", ckr: { name: "CKR_FUNCTION_FAILED" } },
    );
    expect(byId.get("keys/make[key=p-256,source=generate]")?.outcome).toBe("pass");
    expect(ours()).toEqual([]);
  });
});

// `p11compat record` with real clients (OpenSC's pkcs11-tool, an application on graphene-pk11) on a
// fresh SoftHSM token; the profile replayed on SoftHSM (where the client works) and on the virtual
// YubiKey (where it does not, and the verdict names the call). No PIN in any file or output.
import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CLI, DEVICES, ROOT, tmpDir } from "./helpers.js";
import { loadSuiteText } from "../../src/suite/load.js";

const PIN = "Rec0rdPin4711";
const SO_PIN = "Rec0rdSo0815";

/** The SoftHSM profile with PINs the test knows, so it can look for them everywhere. */
function knownPinDevice(dir: string): string {
  const text = readFileSync(path.join(DEVICES, "softhsm.yaml"), "utf8")
    .replace(/^(\s+)user: generate$/m, `$1user: { value: "${PIN}" }`)
    .replace(/^(\s+)so: generate$/m, `$1so: { value: "${SO_PIN}" }`);
  expect(text).toContain(PIN);
  const file = path.join(dir, "softhsm-known-pin.yaml");
  writeFileSync(file, text);
  return file;
}

const recordDirs = () => readdirSync(os.tmpdir()).filter((d) => d.startsWith("p11compat-record-"));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

async function recordWith(dir: string, name: string, client: string[], extra: string[] = []) {
  const out = path.join(dir, `${name}.yaml`);
  const r = await execa(
    "node",
    [CLI, "record", "--device", knownPinDevice(dir), "--out", out, ...extra, "--", ...client],
    {
      reject: false,
      cwd: ROOT,
    },
  );
  return { ...r, out };
}

describe("p11compat record", () => {
  it("records pkcs11-tool on SoftHSM, keeps no PIN anywhere, and the profile replays where it was recorded", async () => {
    const dir = tmpDir("record-");
    const before = recordDirs();
    const r = await recordWith(dir, "pkcs11-tool", [
      "pkcs11-tool",
      "--module",
      "{module}",
      "--login",
      "--pin",
      "{pin}",
      "--keypairgen",
      "--key-type",
      "EC:prime256v1",
      "--id",
      "0102",
      "--label",
      "rec",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/recorded \d+ calls of pkcs11-tool .* \(exited 0\) on softhsm: 2 case\(s\)/);
    const yaml = readFileSync(r.out, "utf8");
    const suite = loadSuiteText(yaml, r.out);
    expect(suite.client?.login).toBe("USER");
    const key = suite.groups.find((g) => g.id.startsWith("key1"))!;
    expect(key.steps[0]).toMatchObject({
      op: "key",
      exact: true,
      template: { public: { ID: "hex:0102", LABEL: "rec", EC_PARAMS: "P-256" }, private: { ID: "hex:0102" } },
    });
    // No PIN (or SO PIN) in the profile, the output, or any file the run left; no raw log left behind.
    for (const text of [yaml, r.stdout, r.stderr, ...filesUnder(dir).map((f) => readFileSync(f, "latin1"))]) {
      expect(text.replace(new RegExp(`value: "${PIN}"|value: "${SO_PIN}"`, "g"), "")).not.toMatch(
        new RegExp(`${PIN}|${SO_PIN}|${Buffer.from(PIN).toString("hex")}`, "i"),
      );
    }
    expect(recordDirs().filter((d) => !before.includes(d))).toEqual([]);

    const run = await execa("node", [CLI, "run", "--suite", r.out, "--quiet", "--out", dir], {
      reject: false,
      cwd: ROOT,
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/recorded-pkcs11-tool\s+2\s+0\s+0\s+0\s+0\s+2/);
  });

  it("records an application on graphene-pk11; the replay works on SoftHSM and names the blocking call on the virtual YubiKey", async () => {
    const dir = tmpDir("record-");
    const r = await recordWith(
      dir,
      "graphene",
      ["node", path.join(ROOT, "examples", "graphene-client.mjs"), "{module}"],
      ["--twice"],
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toMatch(/FAIL/);
    const suite = loadSuiteText(readFileSync(r.out, "utf8"), r.out);
    expect(suite.client?.name).toBe("graphene-client.mjs");
    expect(Object.values(suite.keys)).toEqual([
      { type: "EC", curve: "P-256" },
      { type: "RSA", bits: 2048 },
      { type: "AES", bits: 256 },
    ]);
    for (const device of ["softhsm", "virtual-yubikey"]) {
      const run = await execa("node", [CLI, "run", "--device", device, "--suite", r.out, "--quiet", "--out", dir], {
        reject: false,
        cwd: ROOT,
      });
      expect(run.stdout).toMatch(/report: /);
    }
    const reports = readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => path.join(dir, f));
    const clients = await execa("node", [CLI, "clients", ...reports], { reject: false, cwd: ROOT });
    expect(clients.stdout).toMatch(/graphene-client\.mjs\s+(works\s+DOES NOT WORK|DOES NOT WORK\s+works)/);
    // The YubiKey's blocker: ykcs11 refuses the key pair templates graphene sends (no CKA_ID to pick a slot).
    expect(clients.stdout).toMatch(/key1-p-256 fail: C_GenerateKeyPair: CKR_ATTRIBUTE_\w+ \(0x\w+\)/);
    expect(clients.stdout).toMatch(/key3-aes-256 unsupported: CKM_AES_KEY_GEN is not in the token's mechanism list/);
  }, 120_000);

  it("refuses a device that holds real keys, an existing output, and a client that loads no module", async () => {
    const dir = tmpDir("record-");
    const yk = await execa(
      "node",
      [CLI, "record", "--device", "yubikey", "--out", path.join(dir, "x.yaml"), "--", "true"],
      {
        reject: false,
      },
    );
    expect(yk.exitCode).toBe(1);
    expect(yk.stderr).toMatch(/yubikey is not a throwaway token/);
    writeFileSync(path.join(dir, "exists.yaml"), "keep me");
    const exists = await execa("node", [CLI, "record", "--out", path.join(dir, "exists.yaml"), "--", "true"], {
      reject: false,
    });
    expect(exists.stderr).toMatch(/exists; record never writes over a file/);
    expect(readFileSync(path.join(dir, "exists.yaml"), "utf8")).toBe("keep me");
    const none = await execa("node", [CLI, "record", "--out", path.join(dir, "none.yaml"), "--", "true"], {
      reject: false,
    });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/did not load the recording module .*\{module\}/);
    expect(none.stderr).not.toMatch(/internal error/);
  });
});

// The safety rules of devices/yubikey.yaml (a real YubiKey), tested on the virtual YubiKey through
// Debian's ykcs11 and a private pcscd: the profile used is devices/yubikey.yaml with the module set to
// Debian's ykcs11 and the virtual card's start steps from devices/virtual-yubikey.yaml as set-up. Each
// run gets a fresh card; set-up `run` steps put keys and certificates on it (yubico-piv-tool, ykman) and
// record its slots, and tear-down steps record them again before the card stops. The card's APDU
// statistics show what was written.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { certificate } from "../../src/virtual-yubikey/attestation.js";
import { CLI, DEVICES, tmpDir } from "./helpers.js";
import { requireFiles } from "./devices-helpers.js";

const YKCS11 = "/usr/lib/x86_64-linux-gnu/libykcs11.so";
const SERIAL = "99000001";
const FACTORY_PIN = "123456";
/** INS of PIV commands that change the card: generate, put data, import, set management key, change PIN, reset retry, reset, set retries, move/delete. */
const WRITES = ["47", "db", "fe", "ff", "24", "2c", "fb", "fa", "f6"];

function requireTools(): void {
  requireFiles(
    "the YubiKey safety tests",
    [
      ["/usr/lib/pcsc/drivers/serial/libifdvpcd.so", "vsmartcard-vpcd"],
      [YKCS11, "ykcs11"],
      ["/usr/bin/yubico-piv-tool", "yubico-piv-tool"],
      ["/usr/bin/ykman", "yubikey-manager"],
      ["/usr/sbin/pcscd", "pcscd"],
    ] as [string, string][],
    "virtual-yubikey",
  );
}

/** Three cases: an EC key, an RSA key, a signature with the EC key (reused, so two keys in all). */
const SUITE = `
suite: yk-safety
title: keys for the YubiKey safety tests
keys:
  p-256: { type: EC, curve: P-256 }
  rsa-2048: { type: RSA, bits: 2048 }
cases:
  - id: make
    title: "$key"
    matrix: { key: [p-256, rsa-2048] }
    steps: [ { op: key, spec: $key, source: generate } ]
  - id: sign
    title: ECDSA with the P-256 key
    steps:
      - { op: key, spec: p-256, source: generate }
      - { op: sign, mechanism: ECDSA_SHA256, data: 100 }
`;

/** A key step whose own template names slot 9a: the CKA_ID KeyStore chose must not be replaced. */
const FOREIGN = `
suite: yk-foreign
title: a template that names another slot
keys:
  p-256: { type: EC, curve: P-256 }
cases:
  - id: into-9a
    title: a P-256 key whose template says CKA_ID 01 (slot 9a)
    steps: [ { op: key, spec: p-256, source: generate, template: { public: { ID: "hex:01" }, private: { ID: "hex:01" } } } ]
`;

interface Scenario {
  /** Suite file in the test's directory (default: suite.yaml). */
  suite?: string;
  /** CKA_IDs of keys.ids (default: the profile's, 05-18). */
  ids?: string[];
  /** Card options: a PIN file, a management key. */
  card?: string[];
  /** Shell commands run at the end of set-up (the card is up), before the slots are recorded. */
  prefill?: string[];
  metadata?: "ykman" | "none";
  env?: Record<string, string>;
  args?: string[];
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  report?: any;
  markdown?: string;
  /** Recorded at the end of set-up and in tear-down: ykman GET METADATA output, certificates, status. */
  before: Record<string, string>;
  after: Record<string, string>;
  stats: { byIns: Record<string, number> };
  dir: string;
}

describe("devices/yubikey.yaml on a virtual YubiKey: the safety rules", () => {
  let root: string;
  let n = 0;
  const real = YAML.parse(readFileSync(path.join(DEVICES, "yubikey.yaml"), "utf8"));
  const virtual = YAML.parse(readFileSync(path.join(DEVICES, "virtual-yubikey.yaml"), "utf8"));

  beforeAll(() => {
    requireTools();
    root = tmpDir("yk-safety");
    writeFileSync(path.join(root, "suite.yaml"), SUITE);
    writeFileSync(path.join(root, "foreign.yaml"), FOREIGN);
    const ca = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const der = certificate({
      subject: "someone's certificate",
      issuer: "their CA",
      publicKey: ca.publicKey,
      signer: ca.privateKey,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 86400_000),
    });
    writeFileSync(
      path.join(root, "cert.pem"),
      `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`,
    );
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Records the retired slots 82-85 (metadata and certificates) and the PIN counter into DIR. */
  const record = (dir: string) =>
    [
      `mkdir -p ${dir}`,
      `ykman --device ${SERIAL} apdu -x -a piv f70080 f7009a f70082 f70083 f70084 f70085 > ${dir}/meta.txt 2>&1`,
      ...["82", "83", "84", "85"].map(
        (s) =>
          `(yubico-piv-tool -a read-certificate -s ${s} -o ${dir}/${s}.pem > /dev/null 2>&1 || rm -f ${dir}/${s}.pem)`,
      ),
      `yubico-piv-tool -a status > ${dir}/status.txt 2>&1`,
      "true",
    ].join("; ");

  /** devices/yubikey.yaml, with Debian's ykcs11 and the virtual card's start steps. */
  function profile(dir: string, s: Scenario): string {
    const setup = virtual.setup
      .filter((step: Record<string, unknown>) => "start" in step || "mkdir" in step)
      .map((step: { start?: { name: string; run: string[] } }) => {
        if (step.start?.name !== "card") return step;
        // The PIN file of virtual-yubikey.yaml holds ${userPin}; a YubiKey profile settles its PIN after the listing.
        const run: string[] = [];
        for (let i = 0; i < step.start.run.length; i++) {
          const arg = step.start.run[i]!;
          if (arg === "--pin-file" || arg === "--stats-file") i++;
          else run.push(arg);
        }
        return {
          start: { ...step.start, run: [...run, "--stats-file", path.join(dir, "stats.json"), ...(s.card ?? [])] },
        };
      });
    const derived = {
      ...real,
      device: `yubikey-virtual`,
      title: "devices/yubikey.yaml on the virtual YubiKey",
      module: { paths: [YKCS11] },
      env: virtual.env,
      setup: [
        ...setup,
        ...(s.prefill ?? []).map((cmd) => ({ run: ["sh", "-c", cmd] })),
        { run: ["sh", "-c", record(path.join(dir, "before"))] },
      ],
      teardown: [{ run: ["sh", "-c", record(path.join(dir, "after"))] }],
      keys: { ...real.keys, ids: s.ids ?? real.keys.ids },
      yubikey: { ...real.yubikey, metadata: s.metadata ?? real.yubikey.metadata },
    };
    const file = path.join(dir, "yubikey-virtual.yaml");
    writeFileSync(file, YAML.stringify(derived));
    return file;
  }

  /** `p11compat run` (or with `command`, another command) on a fresh virtual card. */
  function run(s: Scenario, command?: string[]): Outcome {
    const dir = path.join(root, `run${++n}`);
    const out = path.join(dir, "reports");
    mkdirSync(out, { recursive: true });
    const file = profile(dir, s);
    const env: NodeJS.ProcessEnv = { ...process.env, ...s.env };
    for (const k of ["P11COMPAT_YUBIKEY_PIN", "P11COMPAT_YUBIKEY_MGMT_KEY"]) if (!s.env?.[k]) delete env[k];
    const argv = command
      ? [...command, "--device", file]
      : ["run", "--device", file, "--suite", path.join(root, s.suite ?? "suite.yaml"), "--out", out, ...(s.args ?? [])];
    const r = spawnSync(process.execPath, [CLI, ...argv], {
      env,
      encoding: "utf8",
      timeout: 180_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const json = readdirSync(out).find((f) => f.endsWith(".json"));
    const files = (d: string) =>
      existsSync(d) ? Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(path.join(d, f), "utf8")])) : {};
    return {
      code: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      report: json ? JSON.parse(readFileSync(path.join(out, json), "utf8")) : undefined,
      markdown: json ? readFileSync(path.join(out, json.replace(/\.json$/, ".md")), "utf8") : undefined,
      before: files(path.join(dir, "before")),
      after: files(path.join(dir, "after")),
      stats: JSON.parse(readFileSync(path.join(dir, "stats.json"), "utf8")),
      dir,
    };
  }

  const writes = (o: Outcome) =>
    Object.fromEntries(WRITES.filter((ins) => o.stats.byIns[ins]).map((ins) => [ins, o.stats.byIns[ins]]));
  /** The GET METADATA answer for a slot in a recording ("00 F7 00 82" -> status word and data). */
  const meta = (rec: Record<string, string>, slot: string) => {
    const m = new RegExp(`SEND: 00 F7 00 ${slot.toUpperCase()}\\s*\\nRECV \\(SW=(\\w{4})\\):?\\s*\\n?([0-9A-F]*)`).exec(
      rec["meta.txt"] ?? "",
    );
    return m ? `${m[1]} ${m[2]}` : "missing";
  };
  const tries = (rec: Record<string, string>) => /PIN tries left:\s*(\d+)/.exec(rec["status.txt"] ?? "")?.[1];
  const byId = (o: Outcome) => new Map<string, any>(o.report.cases.map((c: any) => [c.id, c]));
  const cert = (s: string) => `yubico-piv-tool -a import-certificate -s ${s} -i ${root}/cert.pem`;

  it("lists the YubiKey first, never writes an occupied slot (key or certificate), skips what finds no empty slot, and says which slots keep its keys", () => {
    const o = run({
      ids: ["05", "06", "07"],
      prefill: [`yubico-piv-tool -a generate -s 82 -A ECCP256 > /dev/null && ${cert("82")}`, cert("83")],
    });
    expect(o.code).toBe(0);
    // The listing comes before anything else, with the slots as they are.
    const listing = o.stderr.indexOf(`* ${SERIAL}  YubiKey YK5, firmware 5.4.3`);
    expect(listing).toBeGreaterThanOrEqual(0);
    expect(listing).toBeLessThan(o.stderr.indexOf("running 3 cases"));
    expect(o.stderr).toMatch(
      /slot 82 \(CKA_ID 05, Retired Key 1\): key \(ECCP256, generated\) \[PIN once, touch never\] \+ certificate/,
    );
    expect(o.stderr).toMatch(/slot 83 \(CKA_ID 06, Retired Key 2\): certificate/);
    expect(o.stderr).toContain(`A run may write keys to slots 84 of YubiKey ${SERIAL}; no other slot is written.`);
    expect(o.stderr).toContain("the user PIN is the factory default");

    const cases = byId(o);
    expect(cases.get("yk-safety/make[key=p-256]")).toMatchObject({ outcome: "pass" });
    expect(cases.get("yk-safety/sign")).toMatchObject({ outcome: "pass" });
    const rsa = cases.get("yk-safety/make[key=rsa-2048]");
    expect(rsa.outcome).toBe("skipped");
    expect(rsa.message).toMatch(/^no free slot for key rsa-2048: .*nothing was written/);
    expect(o.report.cases.filter((c: any) => c.outcome === "error")).toEqual([]);

    // 82 and 83 are exactly as they were; 84 got the run's key, whose certificate ykcs11 removed.
    expect(meta(o.before, "82")).toMatch(/^9000 01011102/);
    expect(meta(o.after, "82")).toBe(meta(o.before, "82"));
    expect(o.after["82.pem"]).toBe(o.before["82.pem"]);
    expect(o.after["83.pem"]).toBe(o.before["83.pem"]);
    expect(meta(o.after, "83")).toBe("6A88 ");
    expect(meta(o.before, "84")).toBe("6A88 ");
    expect(meta(o.after, "84")).toMatch(/^9000 01011102/);
    expect(o.after["84.pem"]).toBeUndefined();
    expect(meta(o.after, "85")).toBe("6A88 ");
    // Two key generations in all: the set-up's (82) and the run's (84).
    expect(o.stats.byIns["47"]).toBe(2);
    expect(o.stats.byIns.fe ?? 0).toBe(0);
    expect(o.report.run.notes).toContainEqual(
      expect.stringMatching(
        new RegExp(`^YubiKey ${SERIAL}: slot 84 still holds a key this run made \\(CKA_ID 07\\).*ykman piv reset`),
      ),
    );
    expect(o.report.run.notes.join("\n")).not.toMatch(/changed during the run/);
  }, 120_000);

  it("refuses --allow-overwrite without the YubiKey's serial or with another, and with it overwrites only the slot named", () => {
    const prefill = [`yubico-piv-tool -a generate -s 82 -A ECCP256 > /dev/null && ${cert("82")}`];
    const none = run({ ids: ["05"], prefill, args: ["--allow-overwrite", "82"] });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      `--allow-overwrite 82 would replace keys and certificates: confirm which YubiKey may lose them by adding its serial, --serial ${SERIAL}`,
    );
    expect(none.report).toBeUndefined();
    const wrong = run({ ids: ["05"], prefill, args: ["--allow-overwrite", "82", "--serial", "12345678"] });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("no YubiKey with serial 12345678");
    for (const o of [none, wrong]) {
      expect(meta(o.after, "82")).toBe(meta(o.before, "82"));
      expect(o.after["82.pem"]).toBe(o.before["82.pem"]);
      expect(writes(o)).toEqual({ "47": 1, db: 2 }); // the set-up's key and certificate (two chained APDUs) only
    }

    const yes = run({
      ids: ["05"],
      prefill,
      args: ["--allow-overwrite", "82", "--serial", SERIAL, "--filter", "p-256"],
    });
    expect(yes.code).toBe(0);
    expect(byId(yes).get("yk-safety/make[key=p-256]").outcome).toBe("pass");
    expect(meta(yes.after, "82")).toMatch(/^9000 01011102/);
    expect(meta(yes.after, "82")).not.toBe(meta(yes.before, "82")); // a new key
    expect(yes.after["82.pem"]).toBeUndefined(); // the certificate went with the old key
    expect(yes.report.run.notes).toContainEqual(
      expect.stringMatching(/^slot 82 held key .* before the run; --allow-overwrite let the run replace it/),
    );
  }, 180_000);

  it("refuses a key whose template names another slot than the one the run chose (the write never reaches the card)", () => {
    const o = run({ suite: "foreign.yaml" });
    expect(o.code).toBe(0);
    const c = byId(o).get("yk-foreign/into-9a");
    expect(c.outcome).toBe("skipped");
    expect(c.message).toBe(
      "p11compat refused C_GenerateKeyPair with CKA_ID 01: on this token the CKA_ID picks a key slot, and this run may write only the slots it chose for its own keys (slot 82 (CKA_ID 05))",
    );
    expect(meta(o.after, "9a")).toBe("6A88 ");
    expect(meta(o.after, "82")).toBe("6A88 ");
    expect(writes(o)).toEqual({});
    expect(o.report.run.notes.join("\n")).not.toMatch(/still hold/);
  }, 60_000);

  it("never tries a PIN that has one try left: the run refuses before logging in and the counter is unchanged", () => {
    const o = run({
      prefill: ["yubico-piv-tool -a verify-pin -P 000000; yubico-piv-tool -a verify-pin -P 000000; true"],
      env: { P11COMPAT_YUBIKEY_PIN: FACTORY_PIN }, // the right PIN: trying it would reset the counter to 3
    });
    expect(o.code).toBe(1);
    expect(tries(o.before)).toBe("1");
    expect(o.stderr).toContain(
      `the PIN of YubiKey ${SERIAL} has one try left: p11compat never spends the last try, so it does not log in`,
    );
    expect(tries(o.after)).toBe("1");
    expect(o.report).toBeUndefined();
    expect(writes(o)).toEqual({});
  }, 60_000);

  it("prints neither the PIN nor the management key anywhere, shows RSA progress, and asks for a touch the management key needs", () => {
    const pin = String(10_000_000 + (randomBytes(4).readUInt32BE(0) % 89_999_999));
    const key = randomBytes(24).toString("hex");
    const dir = path.join(root, "secrets");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "pin"), `${pin}\n`, { mode: 0o600 });
    writeFileSync(path.join(dir, "key"), key, { mode: 0o600 });
    const o = run({
      card: ["--pin-file", path.join(dir, "pin"), "--management-key", `tdes:${key}`],
      // The same key again, now with a touch policy (the metadata of 9B then says "always").
      prefill: [
        `ykman --device ${SERIAL} piv access change-management-key -m "$(cat ${dir}/key)" -n "$(cat ${dir}/key)" --touch -f > /dev/null 2>&1`,
      ],
      env: { P11COMPAT_YUBIKEY_PIN: pin, P11COMPAT_YUBIKEY_MGMT_KEY: key },
      args: ["--trace", "all"],
    });
    expect(o.code).toBe(0);
    expect(o.stderr).toContain(
      "PIN: 3 of 3 tries left, changed from the factory default; management key: TDES, changed from the factory default, touch always",
    );
    const cases = byId(o);
    expect(cases.get("yk-safety/sign").outcome).toBe("pass");
    expect(cases.get("yk-safety/make[key=rsa-2048]").outcome).toBe("pass");
    expect(o.stderr).toContain(
      "generating an RSA 2048 key in slot 83 (CKA_ID 06) on the YubiKey: this takes several seconds",
    );
    expect(o.stderr).toContain(
      ">>> touch your YubiKey: its management key (the SO login for making keys) requires a touch <<<",
    );
    expect(o.report.run.notes.join("\n")).not.toMatch(/factory default/);
    expect(JSON.stringify(o.report)).toContain('"pin":"<redacted>"');
    for (const text of [o.stdout, o.stderr, JSON.stringify(o.report), o.markdown!]) {
      expect(text).not.toContain(pin);
      expect(text.toLowerCase()).not.toContain(key);
    }
  }, 60_000);

  it("--plan lists the keys and the slots they would take, and writes nothing", () => {
    const o = run({ prefill: [cert("82")], args: ["--plan"] });
    expect(o.code).toBe(0);
    expect(o.stdout).toContain(`* ${SERIAL}  YubiKey YK5, firmware 5.4.3`);
    expect(o.stdout).toMatch(
      /1\. p-256 \(P-256\), generated on the token -> slot 83 \(CKA_ID 06\)\n\s+made by yk-safety\/make\[key=p-256\]; then used by yk-safety\/sign/,
    );
    expect(o.stdout).toMatch(/2\. rsa-2048 \(RSA 2048\), generated on the token -> slot 84 \(CKA_ID 07\)/);
    expect(o.stdout).toContain("Slots the run would write: slot 83 (CKA_ID 06), slot 84 (CKA_ID 07)");
    expect(o.stdout).toMatch(/slot 82 \(CKA_ID 05\): occupied: certificate/);
    expect(o.stdout).toContain("Nothing was written");
    expect(o.report).toBeUndefined();
    expect(writes(o)).toEqual({ db: 2 }); // the set-up's certificate (two chained APDUs) only
    expect(tries(o.after)).toBe("3");
    expect(meta(o.after, "83")).toBe("6A88 ");

    const listing = run({ prefill: [cert("82")] }, ["yubikey"]);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toContain(`* ${SERIAL}  YubiKey YK5, firmware 5.4.3  <- selected`);
    expect(listing.stdout).toContain(
      "PIN: 3 of 3 tries left, factory default; management key: TDES, factory default, touch never",
    );
    expect(listing.stdout).toContain("slot 82 (CKA_ID 05, Retired Key 1): certificate");
    expect(listing.stdout).toContain("empty: 9a, 9c-9e, 83-95");
    expect(writes(listing)).toEqual({ db: 2 });
  }, 60_000);

  it("uses the factory PIN only when the YubiKey confirms it: without metadata (firmware 5.2.7) the PIN must be given", () => {
    const o = run({ env: { VIRTUAL_YUBIKEY_FIRMWARE: "5.2.7" } });
    expect(o.code).toBe(1);
    expect(o.stderr).toContain(
      "the user PIN is needed: set $P11COMPAT_YUBIKEY_PIN (or run at a terminal to be asked); the factory default is used only when the YubiKey confirms it is still in use, and here it cannot be checked: the YubiKey has no PIV metadata (firmware 5.2.7; it came with 5.3)",
    );
    // Before 5.3 a key without a certificate would not show: no slot counts as empty.
    expect(o.stderr).toContain("A run may write no slot of YubiKey");
    expect(writes(o)).toEqual({});
  }, 60_000);
});

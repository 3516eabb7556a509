// The virtual YubiKey answers as a real YubiKey does, checked on every firmware profile through
// independent clients only (ykman 4.0.9 and its yubikit, OpenSC's PIV driver and opensc-tool,
// yubico-piv-tool, ykcs11 through pkcs11-tool): the bio-metadata probe, random bytes for OpenSC,
// what the device info and reader name announce, PIN policies that survive MOVE KEY, and the
// management key's "default" flag.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createPublicKey, verify } from "node:crypto";
import path from "node:path";
import { startStack, stopStack } from "../../src/virtual-yubikey/stack.js";
import { readTrace } from "../../src/virtual-yubikey/trace.js";
import { ROOT, tmpDir } from "./helpers.js";
import { requireFiles } from "./devices-helpers.js";

const OPENSC = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
const YKCS11 = "/usr/lib/x86_64-linux-gnu/libykcs11.so";
const YUBIKIT = path.join(ROOT, "test/integration/virtual-yubikey-yubikit.py");
const KEY = "010203040506070801020304050607080102030405060708";
const PROFILES = ["4.3.7", "5.2.7", "5.4.3", "5.7.1"] as const;

requireFiles(
  "the virtual YubiKey fidelity tests",
  [
    ["/usr/lib/pcsc/drivers/serial/libifdvpcd.so", "vsmartcard-vpcd"],
    ["/usr/bin/ykman", "yubikey-manager"],
    ["/usr/bin/opensc-tool", "opensc"],
    [OPENSC, "opensc-pkcs11"],
    [YKCS11, "ykcs11"],
    ["/usr/bin/yubico-piv-tool", "yubico-piv-tool"],
    ["/usr/lib/x86_64-linux-gnu/libpcscspy.so.0", "libpcsclite-dev"],
  ],
  "virtual-yubikey",
);

/** A card of one firmware behind its own pcscd, and a way to run clients against it. */
function card(firmware: string, managementKey?: string) {
  const dir = tmpDir(`vyk-${firmware}`);
  let env: NodeJS.ProcessEnv = {};
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { env, encoding: "buffer", timeout: 30_000, input: "" });
    return { code: r.status, out: r.stdout, text: `${r.stdout.toString()}${r.stderr.toString()}` };
  };
  return {
    dir,
    run,
    /** yubikit's PivSession on the system's python (where python3-ykman lives). */
    yubikit: (...args: string[]) => {
      const r = run("/usr/bin/python3", [YUBIKIT, ...args]);
      if (r.code !== 0) throw new Error(`yubikit ${args.join(" ")}: ${r.text}`);
      return JSON.parse(r.out.toString()) as Record<string, string>;
    },
    async start() {
      const s = await startStack({ dir, firmware, serial: 20241130, managementKey });
      env = { ...process.env, PCSCLITE_CSOCK_NAME: s.socket };
    },
    async stop() {
      await stopStack(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The answer's status word as opensc-tool prints it, for a raw APDU after SELECT of an AID. */
function statusWord(text: string, nth: number): string {
  const all = [...text.matchAll(/SW1=0x([0-9A-F]{2}), SW2=0x([0-9A-F]{2})/gi)].map((m) => `${m[1]}${m[2]}`);
  return (all[nth] ?? "none").toUpperCase();
}

describe.each(PROFILES)("firmware %s through ykman, yubikit, OpenSC, yubico-piv-tool and ykcs11", (firmware) => {
  const c = card(firmware);
  const metadata = firmware >= "5.3";
  beforeAll(() => c.start());
  afterAll(() => c.stop());

  it("answers GET METADATA for the bio slot 96 as a YubiKey without biometrics: 6A88 on 5.3+, 6D00 before", () => {
    const expected = metadata ? "6A88" : "6D00";
    expect(c.yubikit("bio")).toEqual({ sw: expected }); // yubikit 5 takes both as "not supported"
    expect(c.run("ykman", ["apdu", "-a", "piv", "f70096"]).text).toContain(`RECV (SW=${expected})`);
  });

  it("runs `ykman piv info` and `ykman piv reset` to success", () => {
    const info = c.run("ykman", ["piv", "info"]);
    expect(info.code).toBe(0);
    expect(info.text).toContain(`PIV version: ${firmware}`);
    const reset = c.run("ykman", ["piv", "reset", "-f"]);
    expect(reset.text).toContain("Success!");
    expect(reset.code).toBe(0);
    expect(c.run("ykman", ["piv", "info"]).text).toMatch(/PIN tries remaining: 3/);
  });

  it("gives OpenSC's PIV driver random bytes (C_GenerateRandom via GENERAL AUTHENTICATE 00 87 00 9B)", () => {
    const random = () => c.run("pkcs11-tool", ["--module", OPENSC, "--generate-random", "40"]);
    const [a, b] = [random(), random()];
    expect(a.code).toBe(0);
    expect(a.out.length).toBe(40);
    expect(b.out.length).toBe(40);
    expect(a.out.equals(b.out)).toBe(false);
  });

  it("announces PIV over CCID only, and the applications it lacks answer 6A82 as disabled ones do", () => {
    expect(c.run("ykman", ["list"]).text).toMatch(new RegExp(`\\(${firmware.replace(/\./g, "\\.")}\\) \\[CCID\\]`));
    const info = c.run("ykman", ["info"]).text;
    expect(info).toContain("Enabled USB interfaces: CCID\n");
    expect(info).toMatch(/PIV\s+Enabled/);
    for (const app of ["FIDO2", "OTP", "FIDO U2F", "OATH", "OpenPGP"])
      expect(info).toMatch(new RegExp(`\\n${app}\\s+(Disabled|Not available)`));
    // OATH, OpenPGP, FIDO and (from firmware 5, where no serial comes through it) OTP
    const aids = ["a0000005272101", "d27600012401", "a0000006472f0001", "a0000005272001"];
    const probe = c.run("opensc-tool", ["-r", "0", ...aids.flatMap((aid) => ["-s", `00a40400${hex1(aid)}${aid}`])]);
    const otpExpected = firmware.startsWith("4.") ? "9000" : "6A82";
    expect(aids.map((_, i) => statusWord(probe.text, i))).toEqual(["6A82", "6A82", "6A82", otpExpected]);
    // the clients that pick readers by name still find it
    expect(c.run("yubico-piv-tool", ["-a", "status"]).text).toMatch(/Serial Number:\s+20241130/);
    expect(c.run("pkcs11-tool", ["--module", YKCS11, "-L"]).text).toContain("YubiKey PIV #20241130");
  });
});

const hex1 = (aid: string) => (aid.length / 2).toString(16).padStart(2, "0");

describe("firmware 5.7.1: a key keeps the PIN policy it was made with after MOVE KEY", () => {
  const c = card("5.7.1");
  beforeAll(() => c.start());
  afterAll(() => c.stop());

  it("9a's default ONCE stays with the key moved to 9e (whose default is NEVER): metadata, yubikit and yubico-piv-tool", () => {
    const pub = path.join(c.dir, "pub.pem");
    expect(c.run("ykman", ["piv", "keys", "generate", "-m", KEY, "-a", "ECCP256", "9a", pub]).code).toBe(0);
    expect(c.yubikit("meta", "9a")).toEqual({ algorithm: "ECCP256", pin: "ONCE", touch: "NEVER" });
    expect(c.yubikit("move", "AES192", KEY, "9a", "9e")).toEqual({ sw: "9000" });
    expect(c.yubikit("meta", "9e")).toEqual({ algorithm: "ECCP256", pin: "ONCE", touch: "NEVER" });
    expect(c.yubikit("sign", "9e")).toEqual({ sw: "6982" });
    const signed = c.yubikit("sign", "9e", "123456");
    expect(signed.sw).toBe("9000");
    expect(
      verify("sha256", Buffer.from("p11compat"), createPublicKey(readFileSync(pub)), Buffer.from(signed.sig!, "hex")),
    ).toBe(true);
    // yubico-piv-tool (libykpiv) signs with the moved key only after the PIN
    const cert = path.join(c.dir, "9e.pem");
    expect(
      c.run("ykman", ["piv", "certificates", "generate", "-m", KEY, "-P", "123456", "-s", "CN=moved", "9e", pub]).code,
    ).toBe(0);
    expect(c.run("ykman", ["piv", "certificates", "export", "9e", cert]).code).toBe(0);
    expect(c.run("yubico-piv-tool", ["-a", "test-signature", "-s", "9e", "-i", cert]).text).toContain(
      "Failed signing test data",
    );
    expect(
      c.run("yubico-piv-tool", ["-a", "verify-pin", "-P", "123456", "-a", "test-signature", "-s", "9e", "-i", cert])
        .text,
    ).toContain("Successful ECDSA verification");
  });
});

describe("the management key's default flag counts the algorithm as well as the bytes (ykman piv info)", () => {
  const warning = "WARNING: Using default Management key!";

  it("5.4.3: the factory bytes as AES-192 are not the factory key; back as 3DES they are", async () => {
    const c = card("5.4.3");
    await c.start();
    try {
      expect(c.run("ykman", ["piv", "info"]).text).toContain(warning);
      const change = (alg: string) =>
        c.run("ykman", ["piv", "access", "change-management-key", "-f", "-m", KEY, "-n", KEY, "-a", alg]).code;
      expect(change("AES192")).toBe(0);
      let info = c.run("ykman", ["piv", "info"]).text;
      expect(info).toContain("Management key algorithm: AES192");
      expect(info).not.toContain(warning);
      expect(change("TDES")).toBe(0);
      info = c.run("ykman", ["piv", "info"]).text;
      expect(info).toContain("Management key algorithm: TDES");
      expect(info).toContain(warning);
    } finally {
      await c.stop();
    }
  });

  it("5.7.1: the factory key is AES-192; the same bytes as 3DES (what ykcs11 2.2.0 needs) are not it", async () => {
    const c = card("5.7.1", `tdes:${KEY}`);
    await c.start();
    try {
      const info = c.run("ykman", ["piv", "info"]).text;
      expect(info).toContain("Management key algorithm: TDES");
      expect(info).not.toContain(warning);
    } finally {
      await c.stop();
    }
    const factory = card("5.7.1");
    await factory.start();
    try {
      const info = factory.run("ykman", ["piv", "info"]).text;
      expect(info).toContain("Management key algorithm: AES192");
      expect(info).toContain(warning);
    } finally {
      await factory.stop();
    }
  });
});

describe("a pcsc-spy trace of OpenSC against the 5.7.1 card: captured redacted, replayed without a difference", () => {
  const c = card("5.7.1");
  beforeAll(() => c.start());
  afterAll(() => c.stop());

  it("captures with pcsc-lite's spy, keeps the PIN out of the file, and replays it to no differences", () => {
    const pub = path.join(c.dir, "pub.pem");
    expect(c.run("ykman", ["piv", "keys", "generate", "-m", KEY, "-a", "ECCP256", "9a", pub]).code).toBe(0);
    expect(
      c.run("ykman", ["piv", "certificates", "generate", "-m", KEY, "-P", "123456", "-s", "CN=t", "9a", pub]).code,
    ).toBe(0);
    const msg = path.join(c.dir, "msg");
    writeFileSync(msg, "p11compat");
    const script = path.join(c.dir, "session.sh");
    writeFileSync(
      script,
      [
        "opensc-tool -r 0 -s 00:FD:00:00",
        `pkcs11-tool --module ${OPENSC} --login --pin 24680 -O >/dev/null 2>&1 || true`,
        `pkcs11-tool --module ${OPENSC} --login --pin 123456 --sign --id 01 -m ECDSA-SHA256 -i ${msg} -o ${msg}.sig`,
        `pkcs11-tool --module ${OPENSC} --generate-random 16 -o ${msg}.rnd`,
      ].join("\n"),
    );
    const out = path.join(c.dir, "session.trace");
    const cli = path.join(ROOT, "bin/virtual-yubikey.js");
    const captured = c.run(process.execPath, [cli, "capture", "--out", out, "--", "sh", "-e", script]);
    expect(captured.code).toBe(0);
    expect(captured.text).toMatch(/buffers redacted/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const text = readFileSync(out, "utf8");
    expect(text).not.toMatch(/31 32 33 34 35 36 FF FF/); // 123456, padded
    const verifies = readTrace(text).flatMap((e) =>
      e.kind === "transmit" && e.command[1] === 0x20 && e.command.length > 5 ? [e] : [],
    );
    expect(verifies.map((v) => v.response?.toString("hex"))).toEqual(["63c2", "9000"]); // a wrong PIN, then the right one
    const replayed = c.run(process.execPath, [cli, "replay", "--json", out]);
    const r = JSON.parse(replayed.out.toString());
    expect(r.firmware).toBe("5.7.1");
    expect(r.seeded.keys).toEqual(["9a"]);
    expect(r.differences).toEqual([]);
    expect(replayed.code).toBe(0);
  });
});

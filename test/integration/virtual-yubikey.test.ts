// The virtual YubiKey through the real stack (vpcd, a private pcscd) and independent clients:
// Debian's ykcs11, yubico-piv-tool and OpenSC's PIV driver (opensc-pkcs11.so through pkcs11-tool).
// Every signature, decryption and ECDH result is checked with node:crypto.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { spawnSync } from "node:child_process";
import {
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  constants,
  verify,
  type KeyObject,
} from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startStack, stopStack, type StackInfo } from "../../src/virtual-yubikey/stack.js";
import { certificate } from "../../src/virtual-yubikey/attestation.js";
import { ROOT, tmpDir } from "./helpers.js";
import { debianVersion, requireFiles, versionAtLeast } from "./devices-helpers.js";

const YKCS11 = "/usr/lib/x86_64-linux-gnu/libykcs11.so";
const OPENSC = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
const PIN = "24681357";

function requireTools(): void {
  requireFiles(
    "the virtual YubiKey tests",
    [
      ["/usr/lib/pcsc/drivers/serial/libifdvpcd.so", "vsmartcard-vpcd"],
      [YKCS11, "ykcs11"],
      [OPENSC, "opensc-pkcs11"],
      ["/usr/bin/yubico-piv-tool", "yubico-piv-tool"],
      ["/usr/bin/pkcs11-tool", "opensc"],
      ["/usr/sbin/pcscd", "pcscd"],
    ] as [string, string][],
    "virtual-yubikey",
  );
}

/** Processes of ours still running (zombies excluded) whose command line mentions `dir`. */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirProc()) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
      if (cmd.includes(dir) && state !== "Z") out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}
function readdirProc(): string[] {
  return spawnSync("ls", ["/proc"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((e) => /^\d+$/.test(e));
}

const pem = (der: Buffer) =>
  `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;

/** A certificate for a card key, signed by a throwaway CA: what PIV clients find keys by. */
function certFor(publicKeyPem: string, cn: string): string {
  const ca = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const now = new Date();
  return pem(
    certificate({
      subject: cn,
      issuer: "p11compat test CA",
      publicKey: createPublicKey(publicKeyPem),
      signer: ca.privateKey,
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(now.getTime() + 86400_000),
    }),
  );
}

describe("virtual YubiKey 5.4.3 through pcscd and vpcd", () => {
  let dir: string;
  let stack: StackInfo;
  let env: NodeJS.ProcessEnv;
  const run = (cmd: string, args: string[], input?: Buffer) => {
    const r = spawnSync(cmd, args, { env, input, encoding: "buffer", timeout: 30_000 });
    return { code: r.status, out: r.stdout, text: `${r.stdout.toString()}${r.stderr.toString()}` };
  };

  beforeAll(async () => {
    requireTools();
    dir = tmpDir("vyk");
    writeFileSync(path.join(dir, "pin"), `${PIN}\n`, { mode: 0o600 });
    stack = await startStack({ dir, firmware: "5.4.3", serial: 13572468, pinFile: path.join(dir, "pin") });
    env = { ...process.env, PCSCLITE_CSOCK_NAME: stack.socket };
  });

  afterAll(async () => {
    if (!dir) return;
    await stopStack(dir);
    expect(leftovers(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses a private pcscd socket and starts quickly", () => {
    expect(stack.socket.startsWith(dir)).toBe(true);
    expect(existsSync(stack.socket)).toBe(true);
    expect(stack.host).toBe("127.0.0.1");
    expect(stack.nodelay).toBe(true);
    expect(stack.startMs).toBeLessThan(10_000);
  });

  it("serves ykcs11: SO-only key management, signatures, decryption, ECDH and slot 9c, all checked by node:crypto", () => {
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, "test/integration/virtual-yubikey-probe.mjs"), YKCS11, PIN],
      { env, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.stderr).toBe("");
    const o = JSON.parse(r.stdout);
    expect(o.token).toEqual({
      label: "YubiKey PIV #13572468",
      model: "YubiKey YK5",
      serial: "13572468",
      firmware: { major: 5, minor: 43 },
    });
    expect(o.openSessionMs).toBeLessThan(500);
    expect(o.errors).toEqual({
      generateAsUser: "CKR_USER_TYPE_INVALID",
      // ykcs11 2.2.0: any size but 1024/2048 is invalid; 2.7.1: RSA-3072 needs firmware 5.7 (docs/debian13.md)
      rsa3072: versionAtLeast(debianVersion("ykcs11"), "2.7.1")
        ? "CKR_FUNCTION_NOT_SUPPORTED"
        : "CKR_ATTRIBUTE_VALUE_INVALID",
      sign9cWithoutContextLogin: "CKR_USER_NOT_LOGGED_IN",
      wrongPin: "CKR_PIN_INCORRECT",
      wrongPinAgain: "CKR_PIN_INCORRECT",
      destroyAsUser: "CKR_USER_TYPE_INVALID",
    });
    const message = Buffer.from(o.message, "hex");
    const ecKey = (pointAttr: string) => {
      const point = Buffer.from(pointAttr, "hex").subarray(2); // DER OCTET STRING around the point
      const b = (x: Buffer) => x.toString("base64url");
      return createPublicKey({
        key: { kty: "EC", crv: "P-256", x: b(point.subarray(1, 33)), y: b(point.subarray(33)) },
        format: "jwk",
      });
    };
    expect(o.ec.params).toBe("06082a8648ce3d030107");
    expect(
      verify("sha256", message, { key: ecKey(o.ec.point), dsaEncoding: "ieee-p1363" }, Buffer.from(o.ecdsa, "hex")),
    ).toBe(true);
    expect(
      verify(
        "sha256",
        message,
        { key: ecKey(o.sig9c.point), dsaEncoding: "ieee-p1363" },
        Buffer.from(o.sig9cSignature, "hex"),
      ),
    ).toBe(true);
    expect(o.sig9c.alwaysAuthenticate).toBe("01");
    const rsa = createPublicKey({
      key: {
        kty: "RSA",
        n: Buffer.from(o.rsa.modulus, "hex").toString("base64url"),
        e: Buffer.from(o.rsa.exponent, "hex").toString("base64url"),
      },
      format: "jwk",
    });
    expect(rsa.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(verify("sha256", message, rsa, Buffer.from(o.rsaSig, "hex"))).toBe(true);
    expect(o.decrypted).toBe(o.plaintext);
    const peer = createPrivateKey({ key: Buffer.from(o.peer, "hex"), format: "der", type: "pkcs8" });
    expect(o.shared).toBe(diffieHellman({ privateKey: peer, publicKey: ecKey(o.ec.point) }).toString("hex"));
    expect(o.flagsAfterWrongPin & 0x10000).toBe(0x10000); // CKF_USER_PIN_COUNT_LOW
    expect(o.flagsWithOneTryLeft & 0x20000).toBe(0x20000); // CKF_USER_PIN_FINAL_TRY: what p11compat's PIN safety reads
    expect(o.objectsLeftFor9c).toBe(0);
  });

  it("answers yubico-piv-tool: status, generate, certificate import, test signature and decryption, attestation", () => {
    const status = run("yubico-piv-tool", ["-a", "status"]).text;
    expect(status).toMatch(/Version:\s+5\.4\.3/);
    expect(status).toMatch(/Serial Number:\s+13572468/);
    const gen = run("yubico-piv-tool", ["-a", "generate", "-s", "9a", "-A", "ECCP256"]);
    expect(gen.code).toBe(0);
    const pub9a = gen.out.toString();
    const cert9a = path.join(dir, "9a.pem");
    writeFileSync(cert9a, certFor(pub9a, "yubico-piv-tool 9a"));
    expect(run("yubico-piv-tool", ["-a", "import-certificate", "-s", "9a", "-i", cert9a]).code).toBe(0);
    expect(
      run("yubico-piv-tool", ["-a", "verify-pin", "-P", PIN, "-a", "test-signature", "-s", "9a", "-i", cert9a]).text,
    ).toContain("Successful ECDSA verification");
    const rsa = run("yubico-piv-tool", ["-a", "generate", "-s", "9d", "-A", "RSA2048"]);
    const cert9d = path.join(dir, "9d.pem");
    writeFileSync(cert9d, certFor(rsa.out.toString(), "yubico-piv-tool 9d"));
    expect(run("yubico-piv-tool", ["-a", "import-certificate", "-s", "9d", "-i", cert9d]).code).toBe(0);
    expect(
      run("yubico-piv-tool", ["-a", "verify-pin", "-P", PIN, "-a", "test-decipher", "-s", "9d", "-i", cert9d]).text,
    ).toContain("Successfully performed RSA decryption");
    const sig = run("yubico-piv-tool", ["-a", "generate", "-s", "9c", "-A", "RSA2048"]);
    const cert9c = path.join(dir, "9c.pem");
    writeFileSync(cert9c, certFor(sig.out.toString(), "yubico-piv-tool 9c"));
    expect(run("yubico-piv-tool", ["-a", "import-certificate", "-s", "9c", "-i", cert9c]).code).toBe(0);
    const attestation = new X509Certificate(run("yubico-piv-tool", ["-a", "attest", "-s", "9a"]).out);
    const f9 = new X509Certificate(run("yubico-piv-tool", ["-a", "read-certificate", "-s", "f9"]).out);
    expect(attestation.verify(f9.publicKey)).toBe(true);
    expect(attestation.publicKey.export({ format: "pem", type: "spki" })).toBe(
      createPublicKey(pub9a).export({ format: "pem", type: "spki" }),
    );
    expect(run("yubico-piv-tool", ["-a", "verify-pin", "-P", "000000"]).text).toMatch(/2 tries left/);
    expect(run("yubico-piv-tool", ["-a", "verify-pin", "-P", PIN]).code).toBe(0);
  });

  it("works with OpenSC's PIV driver: ECDSA and RSA signatures, RSA decryption, ECDH", () => {
    // Keys and certificates from the previous test: 9a ECCP256, 9c RSA2048 (PIN always), 9d RSA2048.
    const tool = (args: string[], input?: Buffer) =>
      run("pkcs11-tool", ["--module", OPENSC, "--login", "--pin", PIN, ...args], input);
    const message = randomBytes(100);
    const msgFile = path.join(dir, "msg");
    writeFileSync(msgFile, message);
    const certKey = (slot: string): KeyObject =>
      new X509Certificate(readFileSync(path.join(dir, `${slot}.pem`))).publicKey;
    const listing = tool(["-O"]).text;
    expect(listing).toContain("PIV AUTH key");
    expect(listing).toContain("KEY MAN key");
    expect(listing).toContain("SIGN key");

    const ecdsa = tool(["--sign", "--id", "01", "-m", "ECDSA-SHA256", "--signature-format", "openssl", "-i", msgFile]);
    expect(ecdsa.code).toBe(0);
    expect(verify("sha256", message, certKey("9a"), ecdsa.out)).toBe(true);

    // OpenSC gives the PIN again for 9c (CKA_ALWAYS_AUTHENTICATE), which the card insists on.
    const rsaSig = tool(["--sign", "--id", "02", "-m", "SHA256-RSA-PKCS", "-i", msgFile]);
    expect(rsaSig.code).toBe(0);
    expect(verify("sha256", message, certKey("9c"), rsaSig.out)).toBe(true);

    const secret = randomBytes(24);
    const ctFile = path.join(dir, "ct");
    writeFileSync(ctFile, publicEncrypt({ key: certKey("9d"), padding: constants.RSA_PKCS1_PADDING }, secret));
    const dec = tool(["--decrypt", "--id", "03", "-m", "RSA-PKCS", "-i", ctFile]);
    expect(dec.out).toEqual(secret);

    // ECDH needs an EC key in the key management slot.
    const gen = run("yubico-piv-tool", ["-a", "generate", "-s", "9d", "-A", "ECCP256"]);
    const cert = path.join(dir, "9d-ec.pem");
    writeFileSync(cert, certFor(gen.out.toString(), "ecdh 9d"));
    expect(run("yubico-piv-tool", ["-a", "import-certificate", "-s", "9d", "-i", cert]).code).toBe(0);
    const peer = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const peerFile = path.join(dir, "peer.der");
    writeFileSync(peerFile, peer.publicKey.export({ format: "der", type: "spki" }));
    const sharedFile = path.join(dir, "shared");
    const derive = tool([
      "--derive",
      "-m",
      "ECDH1-DERIVE",
      "--id",
      "03",
      "--input-file",
      peerFile,
      "--output-file",
      sharedFile,
    ]);
    expect(derive.code).toBe(0);
    expect(readFileSync(sharedFile)).toEqual(
      diffieHellman({ privateKey: peer.privateKey, publicKey: createPublicKey(gen.out.toString()) }),
    );
  });
});

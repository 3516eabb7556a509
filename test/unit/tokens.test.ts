// Choosing a token (--slot, --token, --serial, RFC 7512 URIs) and reading p11-kit's module configuration.
import { describe, it, expect } from "@jest/globals";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parsePkcs11Uri, pickToken, tokenFilterOf } from "../../src/device/tokens.js";
import { modulePathOf, p11kitModule, p11kitModules } from "../../src/device/p11kit.js";
import type { TokenListing } from "../../src/pkcs11/token.js";

const INITIALISED = 0x400;
const token = (slot: number, label: string, serial: string, flags = INITIALISED): TokenListing => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(slot));
  return {
    slot: b.toString("hex"),
    label,
    serial,
    manufacturer: "Maker",
    model: "M1",
    firmware: { major: 1, minor: 0 },
    flags,
    objects: [],
  };
};
const TOKENS = [token(3, "Foo", "1234"), token(916680029, "Bar baz", "5678"), token(7, "", "", 0)];

describe("RFC 7512 URIs", () => {
  it("splits path and query attributes and percent-decodes them", () => {
    const uri = parsePkcs11Uri(
      "pkcs11:token=Bar%20baz;serial=5678?module-path=%2Fopt%2Flib%2Fp11.so&pin-source=file:x",
    );
    expect(Object.fromEntries(uri.path)).toEqual({ token: "Bar baz", serial: "5678" });
    expect(Object.fromEntries(uri.query)).toEqual({ "module-path": "/opt/lib/p11.so", "pin-source": "file:x" });
  });

  it("names a token with token, serial, manufacturer, model, slot-id; refuses what names no token, and PINs", () => {
    expect(tokenFilterOf({ token: "pkcs11:token=Foo;serial=1234" })).toEqual({ label: "Foo", serial: "1234" });
    expect(tokenFilterOf({ token: "pkcs11:slot-id=3;manufacturer=Maker;model=M1" })).toEqual({
      slot: "3",
      manufacturer: "Maker",
      model: "M1",
    });
    expect(() => tokenFilterOf({ token: "pkcs11:object=key1" })).toThrow(/"object" does not select a token/);
    expect(() => tokenFilterOf({ token: "pkcs11:token=Foo?pin-value=1234" })).toThrow(
      /takes no PIN from the command line/,
    );
    expect(() => tokenFilterOf({ token: "pkcs11:token=%zz" })).toThrow(/bad percent-encoding/);
  });

  it("a plain --token is a label; --slot takes decimal or hex; flags that contradict the URI are refused", () => {
    expect(tokenFilterOf({ token: "pkcs11 token" })).toEqual({ label: "pkcs11 token" });
    expect(tokenFilterOf({ slot: "0x36a36d5d" })).toEqual({ slot: "916680029" });
    expect(() => tokenFilterOf({ slot: "first" })).toThrow(/--slot takes a slot ID/);
    expect(() => tokenFilterOf({ token: "pkcs11:serial=1", serial: "2" })).toThrow(/contradicts/);
  });
});

describe("pickToken", () => {
  it("the one named, by label, serial, slot or URI", () => {
    expect(pickToken(TOKENS, { label: "Foo" }, "m.so").serial).toBe("1234");
    expect(pickToken(TOKENS, tokenFilterOf({ slot: "0x36a36d5d" }), "m.so").label).toBe("Bar baz");
    expect(pickToken(TOKENS, tokenFilterOf({ token: "pkcs11:token=Bar%20baz" }), "m.so").serial).toBe("5678");
  });

  it("several and none named: refuses and lists them (not the uninitialised one)", () => {
    expect(() => pickToken(TOKENS, {}, "m.so")).toThrow(
      /2 tokens present and none named; choose one with --token LABEL.*\n {2}slot 3: token "Foo", serial "1234", Maker M1\n {2}slot 916680029: token "Bar baz"/,
    );
  });

  it("none matching: says so and lists every token", () => {
    expect(() => pickToken(TOKENS, { serial: "9" }, "m.so")).toThrow(
      /no token matches serial "9"; tokens present:\n.*"Foo".*\n.*"Bar baz".*\n.*\(not initialised\)/,
    );
    expect(() => pickToken([], {}, "m.so")).toThrow(/m\.so shows no token/);
  });

  it("the only initialised token needs no name", () => {
    expect(pickToken([TOKENS[0]!, TOKENS[2]!], {}, "m.so").label).toBe("Foo");
  });
});

describe("p11-kit's configuration", () => {
  const dirs = () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "p11compat-p11kit-"));
    const [pkg, sys] = [path.join(root, "share"), path.join(root, "etc")];
    mkdirSync(pkg);
    mkdirSync(sys);
    writeFileSync(
      path.join(pkg, "vendor.module"),
      "# the vendor's\nmodule: /opt/vendor/lib/libvendor-p11.so\ncritical: no\n",
    );
    writeFileSync(path.join(pkg, "other.module"), "module: /usr/lib/other.so\n");
    writeFileSync(path.join(sys, "other.module"), "module: /opt/other/other.so\n");
    writeFileSync(path.join(sys, "remote.module"), "remote: |ssh host p11-kit remote /x.so\n");
    return [pkg, sys];
  };

  it("reads the .module files, a later directory overriding an earlier one, and skips those without module:", () => {
    const mods = p11kitModules(dirs());
    expect(mods.map((m) => [m.name, m.path])).toEqual([
      ["other", "/opt/other/other.so"],
      ["vendor", "/opt/vendor/lib/libvendor-p11.so"],
    ]);
    expect(() => p11kitModule("nope", mods)).toThrow(
      /no module "nope" is registered with p11-kit .*registered: other, vendor/,
    );
  });

  it("--module takes a pkcs11: URI with module-path", () => {
    expect(modulePathOf("pkcs11:?module-path=%2Fopt%2Fx%20y.so")).toBe("/opt/x y.so");
    expect(modulePathOf("/usr/lib/a.so")).toBe("/usr/lib/a.so");
    expect(() => modulePathOf("pkcs11:token=x")).toThrow(/names no module/);
  });
});

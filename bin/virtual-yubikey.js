#!/usr/bin/env node
// A virtual YubiKey (PIV) for PC/SC clients; runs the compiled sources in dist/ like p11compat.
import { ensureBuilt } from "../scripts/build.js";

await ensureBuilt("virtual-yubikey");
await import("../dist/virtual-yubikey/cli.js");

#!/usr/bin/env node
// A virtual YubiKey (PIV) for PC/SC clients; runs the TypeScript sources through tsx like p11compat.
import { register } from "tsx/esm/api";

register();
await import("../src/virtual-yubikey/cli.ts");

#!/usr/bin/env node
// Runs the compiled CLI in dist/ (built by npm ci; rebuilt first when src/ changed since, so never stale).
import { ensureBuilt } from "../scripts/build.js";

await ensureBuilt("p11compat");
await import("../dist/cli/main.js");

// The worker process: loads the PKCS#11 module and runs cases the supervisor sends. If the module
// crashes or hangs, only this process goes; the supervisor records the case and starts a new one.
import { appendFileSync } from "node:fs";
import type { FromWorker, ToWorker } from "./protocol.js";
import { TokenSession } from "./session.js";
import { KeyStore, nodeKeyIn, type NodeKeyCache } from "./keys.js";
import { executeCase } from "./execute.js";
import { doctor } from "./doctor.js";
import { SpeedBench } from "./speed.js";
import { Pkcs11Token, type MechanismInfo } from "../pkcs11/token.js";
import { CALL_LOG_ENV, CallLogWriter, SHUTDOWN, START } from "./call-log.js";

const send = (msg: FromWorker): void => void process.send!(msg);

// Fault injection for the supervisor's own tests: crash or hang when a named case starts.
const crashOn = process.env.P11COMPAT_TEST_CRASH_ON;
const hangOn = process.env.P11COMPAT_TEST_HANG_ON;
// For `p11compat bench`: every call this worker made, per function (one JSON line per worker, at shutdown).
const callStats = process.env.P11COMPAT_CALL_STATS;

// The supervisor's pipe for the call under way (absent when the worker runs without a supervisor).
const callLog = process.env[CALL_LOG_ENV] ? new CallLogWriter(Number(process.env[CALL_LOG_ENV])) : undefined;

let session: TokenSession | undefined;
let store: KeyStore | undefined;
let speed: SpeedBench | undefined;
const nodeKeys: NodeKeyCache = new Map();
let queue = Promise.resolve();

process.on("message", (msg: ToWorker) => {
  // Prefetching starts background work and must not wait behind (or hold up) the queue; it may come
  // before init (a worker started early), its keys then wait for the key store in `nodeKeys`.
  if (msg.type === "prefetch") {
    for (const { name, spec } of msg.keys) nodeKeyIn(nodeKeys, name, spec).catch(() => {});
    return;
  }
  queue = queue.then(() => handle(msg)).catch((err) => void send({ type: "fatal", message: (err as Error).message }));
});
process.on("disconnect", () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group; the supervisor decides when this worker stops.
process.on("SIGINT", () => {});

// Prefetch never queues (see above).
async function handle(msg: Exclude<ToWorker, { type: "prefetch" }>): Promise<void> {
  if ((msg.type === "init" || msg.type === "inspect" || msg.type === "doctor") && msg.env)
    Object.assign(process.env, msg.env);
  switch (msg.type) {
    case "doctor": {
      doctor(msg.device, msg.filter, (check) => send({ type: "event", event: { kind: "check", check } }));
      send({ type: "diagnosed" });
      return;
    }
    case "inspect": {
      // Read-only: which tokens are present and what anyone can see on them; no session stays open.
      const token = new Pkcs11Token(msg.device.modulePath);
      token.observer = callLog;
      callLog?.caseStarts(START);
      token.load(msg.device.libraryParameters);
      let tokens;
      try {
        tokens = token.inventory(msg.objects);
      } finally {
        token.finalize();
      }
      send({ type: "inventory", tokens });
      return;
    }
    case "init": {
      session = new TokenSession(msg.device);
      session.token.observer = callLog;
      callLog?.caseStarts(START);
      if (callStats) session.token.trace.totals = new Map();
      session.notify = (event) => send({ type: "event", event });
      session.open();
      store = new KeyStore(session, nodeKeys);
      // Asked twice: what changes between two answers is volatile, not a property of the token.
      const mechanisms = markUnstable(session.token.mechanisms(), session.token.mechanisms());
      for (const m of mechanisms) session.mechanisms.set(m.code, m);
      const identity = session.token.identity();
      const again = session.token.identity();
      const unstable = (["label", "manufacturer", "model", "serial", "firmware", "hardware", "flags"] as const).filter(
        (k) => identity.token[k] !== again.token[k],
      );
      if (unstable.length) identity.token.unstable = unstable;
      send({ type: "ready", identity, mechanisms });
      return;
    }
    case "case": {
      if (!session || !store) throw new Error("case before init");
      callLog?.caseStarts(msg.case.id);
      if (crashOn && msg.case.id === crashOn) process.kill(process.pid, "SIGSEGV");
      if (hangOn && msg.case.id === hangOn) await new Promise(() => {});
      send({ type: "result", result: await executeCase(session, store, msg.case, msg.options) });
      const limit = session.device.reinitializeAfterKeys;
      if (!session.broken && limit !== undefined && session.token.keysGeneratedSinceInit >= limit) {
        try {
          session.reinitialize();
          store.forgetKeys();
        } catch (err) {
          session.broken = `could not initialise the module again after ${limit} key generations: ${(err as Error).message}`;
        }
      }
      // A session that could not be restored would fail every later case: let a fresh worker take over.
      if (session.broken) setImmediate(() => process.exit(3));
      return;
    }
    case "speed-plan": {
      if (!session || !store) throw new Error("speed before init");
      speed = new SpeedBench(session, store);
      send({ type: "speed-plan", ops: await speed.plan(msg.job) });
      return;
    }
    case "speed": {
      if (!speed) throw new Error("speed measurement before its plan");
      send({ type: "speed-samples", samples: await speed.measure(msg.id, msg.seconds) });
      return;
    }
    case "shutdown": {
      callLog?.caseStarts(SHUTDOWN);
      const problems = session ? session.cleanUp() : [];
      const totals = session?.token.trace.totals;
      if (callStats && totals) appendFileSync(callStats, `${JSON.stringify(Object.fromEntries(totals))}\n`);
      // C_Finalize after the reply: a module that hangs in it costs the supervisor a time-out, not the report.
      process.send!({ type: "closed", problems } satisfies FromWorker, () => {
        session?.token.finalize();
        process.disconnect();
      });
      return;
    }
  }
}

function markUnstable(first: MechanismInfo[], second: MechanismInfo[]): MechanismInfo[] {
  const again = new Map(second.map((m) => [m.code, m]));
  return first.map((m) => {
    const b = again.get(m.code);
    const unstable = b ? (["minKeySize", "maxKeySize", "flags"] as const).filter((k) => m[k] !== b[k]) : ["listed"];
    return unstable.length ? { ...m, unstable } : m;
  });
}

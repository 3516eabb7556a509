// The worker process: loads the PKCS#11 module and runs cases the supervisor sends. If the module
// crashes or hangs, only this process goes; the supervisor records the case and starts a new one.
import type { FromWorker, ToWorker } from "./protocol.js";
import { TokenSession } from "./session.js";
import { KeyStore } from "./keys.js";
import { executeCase } from "./execute.js";

const send = (msg: FromWorker): void => void process.send!(msg);

// Fault injection for the supervisor's own tests: crash or hang when a named case starts.
const crashOn = process.env.P11COMPAT_TEST_CRASH_ON;
const hangOn = process.env.P11COMPAT_TEST_HANG_ON;

let session: TokenSession | undefined;
let store: KeyStore | undefined;
let queue = Promise.resolve();

process.on("message", (msg: ToWorker) => {
  // Prefetching starts background work and must not wait behind (or hold up) the queue.
  if (msg.type === "prefetch") return void store?.prefetch(msg.keys);
  queue = queue.then(() => handle(msg)).catch((err) => void send({ type: "fatal", message: (err as Error).message }));
});
process.on("disconnect", () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group; the supervisor decides when this worker stops.
process.on("SIGINT", () => {});

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case "init": {
      session = new TokenSession(msg.device);
      session.open();
      store = new KeyStore(session);
      const mechanisms = session.token.mechanisms();
      for (const m of mechanisms) session.mechanisms.set(m.code, m);
      send({ type: "ready", identity: session.token.identity(), mechanisms });
      return;
    }
    case "case": {
      if (!session || !store) throw new Error("case before init");
      if (crashOn && msg.case.id === crashOn) process.kill(process.pid, "SIGSEGV");
      if (hangOn && msg.case.id === hangOn) await new Promise(() => {});
      send({ type: "result", result: await executeCase(session, store, msg.case, msg.options) });
      // A session that could not be restored would fail every later case: let a fresh worker take over.
      if (session.broken) setImmediate(() => process.exit(3));
      return;
    }
    case "shutdown": {
      const problems = session ? session.close() : [];
      send({ type: "closed", problems });
      process.disconnect();
      return;
    }
  }
}

// Samples every process's command line (/proc/PID/cmdline, which any local user can read) as fast as
// it can, for pins-argv.test.ts: which processes showed one of the secrets in $ARGV_SAMPLER_SECRETS
// (comma-separated; given in the environment, not on this command line). Runs until stdin closes, then
// prints one JSON object: the hits, the samples taken and every command seen (secrets masked).
import { readdirSync, readFileSync } from "node:fs";

const secrets = (process.env.ARGV_SAMPLER_SECRETS ?? "").split(",").filter(Boolean);
const mask = (s) => secrets.reduce((t, p) => t.split(p).join("<PIN>"), s);
const seen = new Map();
const hits = [];
let samples = 0;
let stop = false;
process.stdin.on("end", () => (stop = true)).resume();

function sample() {
  for (const pid of readdirSync("/proc")) {
    if (pid < "0" || pid > "9" || pid === String(process.pid)) continue;
    let cmd;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
    } catch {
      continue;
    }
    if (!cmd || seen.has(`${pid} ${cmd}`)) continue;
    seen.set(`${pid} ${cmd}`, true);
    if (secrets.some((s) => cmd.includes(s))) hits.push(mask(cmd));
  }
  samples++;
}

(function loop() {
  if (stop) {
    process.stdout.write(JSON.stringify({ hits, samples, seen: [...seen.keys()].map(mask) }));
    return;
  }
  sample();
  setImmediate(loop);
})();

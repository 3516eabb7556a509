#!/usr/bin/env bash
# The Debian 13 lane: on a Debian 12 (or 13) host, a Debian 13 (trixie) root made with debootstrap
# from Debian's packages (cached), a clean clone of this checkout's HEAD inside it, and there the
# README's two lines (install + default run, then the tests) and every CI token's default suites
# against the Debian 13 references. Reports to reports/ci/debian13/. Needs root (chroot, mounts).
#   scripts/ci-debian13.sh [STAGE...]    stages: root, clone, start, test, tokens (default: all)
#   stage jest (not in the default): only the test files in $JEST (to iterate on a few of them)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
root=${P11COMPAT_DEBIAN13_ROOT:-/var/cache/p11compat/debian13}
out=$repo/reports/ci/debian13
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(root clone start test tokens)
has() { [[ " ${stages[*]} " == *" $1 "* ]]; }
log() { printf '[debian13 %s] %s\n' "$(date +%T)" "$*" >&2; }

mirror=$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

bind() { # bind SRC DST
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
}

in_root() { # run a command in the root, as root, in the clone
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb CI="${CI:-true}" LANG=C.UTF-8 bash -c "cd /work/p11compat && $1"
}
# A stage runs in its own PID, IPC and mount namespaces with a fresh /run, as on a booted machine:
# the host's daemons (a pkcsslotd, another run's swtpm) are not seen by the tests' process checks,
# and nothing a stage starts outlives it (a daemon that forks away is killed with the namespace).
in_stage() {
  in_root "unshare --pid --fork --mount-proc --ipc --mount bash -c $(printf %q "mount -t tmpfs -o mode=755 run /run && install -d -m 1777 /run/lock && $1")"
}

if has root && [ ! -e "$root/.p11compat-ready" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  log "building the Debian 13 root in $root from $mirror (once; cached)"
  rm -rf "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >/dev/null
  # No daemon starts while packages install; the lane starts what it needs itself.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  touch "$root/.p11compat-ready"
fi
[ -e "$root/.p11compat-ready" ] || { echo "no Debian 13 root at $root: run with the root stage" >&2; exit 1; }

# The host's network settings and extra CA certificates (an intercepting proxy's): npm and apt need them.
cp /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/* "$root/usr/local/share/ca-certificates/"
fi
# unshare --mount (the private pcscd) needs the root to be a mount point before /proc etc. are bound.
bind "$root" "$root"
bind /proc "$root/proc"
bind /sys "$root/sys"
bind /dev "$root/dev"
bind /dev/pts "$root/dev/pts"
mkdir -p "$root/dev/shm" && mount -t tmpfs shm "$root/dev/shm" && mounted+=("$root/dev/shm")

if has clone; then
  log "a clean clone of $(git rev-parse --short HEAD)"
  rm -rf "$root/work/p11compat"
  mkdir -p "$root/work"
  git clone -q --no-local "$repo" "$root/work/p11compat"
  git -C "$root/work/p11compat" checkout -q "$(git rev-parse HEAD)"
fi

mkdir -p "$out"
status=0
step() { # step NAME COMMAND: runs in the root, log to $out/NAME.log, timing on stderr
  local t0=$SECONDS
  log "$1: $2"
  if in_stage "$2" >"$out/$1.log" 2>&1; then
    log "$1 passed in $((SECONDS - t0)) s"
  else
    log "$1 FAILED in $((SECONDS - t0)) s (log: $out/$1.log)"
    tail -40 "$out/$1.log" >&2
    status=1
  fi
}

if has start; then
  # ca-certificates and the host's CAs first: install-system-deps.sh installs nodejs and npm.
  in_root "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates git >/dev/null && update-ca-certificates >/dev/null"
  # README line 1.
  step start "./scripts/install-system-deps.sh && npm ci && npm start -- --quiet --out reports"
fi
# README line 2.
has test && step test "npm test"
has jest && step jest "NODE_OPTIONS=--experimental-vm-modules npx jest ${JEST:?JEST=test files for the jest stage}"
if has tokens; then
  step tokens "npm run ci:tokens"
  cp -r "$root/work/p11compat/reports/ci/." "$out/" 2>/dev/null || true
fi
exit $status

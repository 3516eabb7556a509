#!/bin/sh
# profile: openssh
# OpenSSH as its users run it: a key already on the token (made by pkcs11-tool, as users make them;
# CKA_ID 05 is also PIV's retired slot 82), listed by `ssh-keygen -D`, loaded into an agent with
# `ssh-add -s` (the PIN through SSH_ASKPASS, never the command line), and a signature through the
# agent (`ssh-keygen -Y sign`) verified with `ssh-keygen -Y verify`.
set -eu
dir=$(mktemp -d)
agent=""
trap '[ -z "$agent" ] || kill "$agent" 2>/dev/null; rm -rf "$dir"' EXIT
printf '%s' "$P11COMPAT_PIN" >"$dir/pin" && chmod 600 "$dir/pin"
printf '#!/bin/sh\ncat "%s"\n' "$dir/pin" >"$dir/askpass" && chmod 700 "$dir/askpass"
. scripts/real-clients/lib.sh
existing_key EC:prime256v1 05 ssh-real
ssh-keygen -D "$P11COMPAT_MODULE" >"$dir/keys.pub"
[ -s "$dir/keys.pub" ] || { echo "ssh-keygen -D lists no key" >&2; exit 1; }
head -1 "$dir/keys.pub" >"$dir/key.pub"
eval "$(ssh-agent -s -a "$dir/agent.sock")" >/dev/null
agent=$SSH_AGENT_PID
SSH_ASKPASS="$dir/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none ssh-add -s "$P11COMPAT_MODULE" </dev/null
ssh-add -L | grep -qF "$(cut -d' ' -f2 "$dir/key.pub")" || { echo "the agent does not hold the token's key" >&2; exit 1; }
echo "signed by the token" >"$dir/msg"
ssh-keygen -Y sign -f "$dir/key.pub" -n p11compat "$dir/msg" 2>"$dir/sign.err" || { cat "$dir/sign.err" >&2; exit 1; }
printf 'real %s\n' "$(cat "$dir/key.pub")" >"$dir/allowed"
ssh-keygen -Y verify -f "$dir/allowed" -I real -n p11compat -s "$dir/msg.sig" <"$dir/msg"

# Shared by the real-client scripts: a key already on the token, made the way the token's users make
# one (pkcs11-tool; as the SO where the device makes keys as the SO, as a YubiKey's management key).
#   existing_key TYPE ID LABEL      e.g. existing_key EC:prime256v1 05 ssh-real
# A token without that key type (openCryptoki 3.8's soft token has no EC key generation) gets an
# RSA-2048 key instead, as its users would make.
existing_key() {
  make_key "$@" 2>/dev/null || make_key rsa:2048 "$2" "$3"
}
make_key() {
  if [ "${P11COMPAT_KEY_LOGIN:-user}" = so ]; then
    set -- "$1" "$2" "$3" --login --login-type so --so-pin "$P11COMPAT_SO_PIN"
  else
    set -- "$1" "$2" "$3" --login --pin "$P11COMPAT_PIN"
  fi
  type=$1 id=$2 label=$3
  shift 3
  pkcs11-tool --module "$P11COMPAT_MODULE" ${P11COMPAT_TOKEN_LABEL:+--token-label "$P11COMPAT_TOKEN_LABEL"} "$@" \
    --keypairgen --key-type "$type" --id "$id" --label "$label" >/dev/null
}

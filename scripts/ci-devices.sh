# The tokens CI runs the default suites on (sourced by ci-tokens.sh and reference.sh).
CI_DEVICES=(softhsm nss tpm2 opencryptoki virtual-yubikey)

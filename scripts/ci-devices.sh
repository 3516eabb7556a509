# The tokens CI runs the default suites on (sourced by ci-tokens.sh and reference.sh).
CI_DEVICES=(softhsm nss tpm2 opencryptoki virtual-yubikey)
# Each distribution's module versions answer differently (ykcs11 2.2.0 vs 2.7.1, NSS 3.87 vs 3.110,
# openCryptoki 3.8 vs 3.23 ...): the references a run is compared with are the distribution's own.
# Debian 12: reports/reference/; Debian 13: reports/reference/debian13/.
case "$(cut -d. -f1 /etc/debian_version 2>/dev/null)" in
  13 | trixie/sid) REFERENCE_DIR=reports/reference/debian13 ;;
  *) REFERENCE_DIR=reports/reference ;;
esac

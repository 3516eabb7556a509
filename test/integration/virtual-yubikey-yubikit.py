# Drives the virtual YubiKey through Yubico's yubikit (Debian's python3-ykman 4.0.9, over pyscard and
# pcscd) for what ykman 4.0.9 has no command for: yubikit 5's bio-metadata probe and MOVE KEY
# (firmware 5.7), sent with yubikit's own session and protocol. Prints one JSON object per step.
#   python3 virtual-yubikey-yubikit.py STEP [ARGS...]
#     bio                              GET METADATA 96 as yubikit 5's get_bio_metadata sends it
#     move ALG KEYHEX FROM TO          authenticate with the management key, then MOVE KEY
#     meta SLOT                        the slot's metadata (algorithm, PIN and touch policy)
#     sign SLOT [PIN]                  an ECDSA P-256 signature with the slot's key (PIN verified first if given)
import json
import sys

from cryptography.hazmat.primitives import hashes
from ykman.pcsc import list_devices
from yubikit.core.smartcard import ApduError, SmartCardConnection
from yubikit.piv import KEY_TYPE, MANAGEMENT_KEY_TYPE, SLOT, PivSession

INS_GET_METADATA = 0xF7
INS_MOVE_KEY = 0xF6
SLOT_OCC_AUTH = 0x96


def session() -> PivSession:
    devices = list_devices()
    if len(devices) != 1:
        raise SystemExit(f"expected one YubiKey reader, found {len(devices)}")
    return PivSession(devices[0].open_connection(SmartCardConnection))


def sw_of(fn):
    try:
        fn()
        return "9000"
    except ApduError as e:
        return f"{e.sw:04X}"


def main(step: str, *args: str) -> dict:
    piv = session()
    if step == "bio":
        # yubikit 5: 6A88 or 6D00 mean "no biometrics" (NotSupportedError), anything else is an error
        return {"sw": sw_of(lambda: piv.protocol.send_apdu(0, INS_GET_METADATA, 0, SLOT_OCC_AUTH))}
    if step == "move":
        alg, key, src, dst = args
        piv.authenticate(MANAGEMENT_KEY_TYPE[alg], bytes.fromhex(key))
        # yubikit 5's move_key: P1 the destination, P2 the source
        return {"sw": sw_of(lambda: piv.protocol.send_apdu(0, INS_MOVE_KEY, int(dst, 16), int(src, 16)))}
    if step == "meta":
        m = piv.get_slot_metadata(SLOT(int(args[0], 16)))
        return {"algorithm": m.key_type.name, "pin": m.pin_policy.name, "touch": m.touch_policy.name}
    if step == "sign":
        if len(args) > 1:
            piv.verify_pin(args[1])
        slot = SLOT(int(args[0], 16))
        out = {}
        out["sw"] = sw_of(lambda: out.update(sig=piv.sign(slot, KEY_TYPE.ECCP256, b"p11compat", hashes.SHA256()).hex()))
        return out
    raise SystemExit(f"unknown step {step}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))

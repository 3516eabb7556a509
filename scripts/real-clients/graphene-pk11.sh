#!/bin/sh
# profile: graphene-pk11
# library-parameters: yes
# An application on graphene-pk11 (examples/graphene-client.mjs): EC, RSA and AES keys, sign, verify,
# OAEP and CBC round trips, find. Run by scripts/real-clients.sh under `p11compat exec`.
exec node examples/graphene-client.mjs "$P11COMPAT_MODULE"

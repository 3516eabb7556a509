// The key type a mechanism works with, for the matrix's Key column and key-type filter. One place on
// purpose: it reads the mechanism's name today and is to read the mechanism catalogue instead.

/** The key type (CKK_ name without the prefix) a mechanism works with; undefined for keyless ones (digests, random). */
export function mechanismKeyType(name: string): string | undefined {
  const n = name.replace(/^CKM_/, "");
  if (/EDDSA|EC_EDWARDS/.test(n)) return "EC_EDWARDS";
  if (/EC_MONTGOMERY|XEDDSA/.test(n)) return "EC_MONTGOMERY";
  if (/ECDSA|ECDH|ECMQV|^EC_|ECIES/.test(n)) return "EC";
  if (/RSA/.test(n)) return "RSA";
  if (/DSA/.test(n)) return "DSA";
  if (/(^|_)DH(_|$)|X9_42_DH/.test(n)) return "DH";
  if (/AES/.test(n)) return "AES";
  if (/DES3|DES2/.test(n)) return "DES3";
  if (/DES/.test(n)) return "DES";
  if (/HMAC|GENERIC_SECRET/.test(n)) return "GENERIC_SECRET";
  return undefined;
}

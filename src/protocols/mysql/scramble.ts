// The password proofs a MySQL client sends for the device's account (upstream leg only).
import { createHash, publicEncrypt, constants } from 'node:crypto';

const sha1 = (...b: Buffer[]) => createHash('sha1').update(Buffer.concat(b)).digest();
const sha256 = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!;
  return out;
}

/** mysql_native_password: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))). */
export function nativeScramble(password: Buffer, nonce: Buffer): Buffer {
  if (!password.length) return Buffer.alloc(0);
  const h1 = sha1(password);
  return xor(h1, sha1(nonce.subarray(0, 20), sha1(h1)));
}

/** caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce). */
export function sha2Scramble(password: Buffer, nonce: Buffer): Buffer {
  if (!password.length) return Buffer.alloc(0);
  const h1 = sha256(password);
  return xor(h1, sha256(sha256(h1), nonce.subarray(0, 20)));
}

/** caching_sha2_password full authentication without TLS: the password, NUL-ended, XOR nonce, RSA-OAEP. */
export function rsaPassword(password: Buffer, nonce: Buffer, pem: Buffer): Buffer {
  const plain = xor(Buffer.concat([password, Buffer.from([0])]), nonce.subarray(0, 20));
  return publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING }, plain);
}

/** The nonce of a greeting or an AuthSwitchRequest: 20 bytes, the trailing NUL left off. */
export function nonceOf(data: Buffer): Buffer {
  return data.length > 20 && data[data.length - 1] === 0 ? data.subarray(0, data.length - 1) : data;
}

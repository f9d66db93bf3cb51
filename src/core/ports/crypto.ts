// Crypto the core needs, implemented in src/crypto.
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Always does the full work, also for an unknown user (pass null), so timing does not tell them apart. */
  verify(hash: string | null, password: string): Promise<boolean>;
}

export interface Vault {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export interface ParsedPublicKey {
  /** The key in OpenSSH one-line form without comment: "ssh-ed25519 AAAA..." */
  publicKey: string;
  fingerprint: string;
  comment: string | null;
}

export interface KeyTools {
  parsePublicKey(text: string): ParsedPublicKey;
  /** Checks a private key parses (with optional passphrase) without revealing it. */
  checkPrivateKey(text: string): void;
}

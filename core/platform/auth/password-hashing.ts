import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id, memory-hard, at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). The encoded
 * hash carries its parameters, so raising them later only affects new hashes.
 */
const PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Longer inputs are refused before hashing: hashing megabytes per login attempt is a DoS lever. */
export const MAX_PASSWORD_LENGTH = 1024;

// A real hash of a random string: verifying an unknown user's login against it costs the same as
// a real check, so response time does not reveal which emails exist.
const DECOY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$4TE4+UY+UFjK/M5WwJ5zIg$WPuq3K7rzErmMAOshKBPJ++yOEAKquWNTSH3uz0aGDQ';

export function hashPassword(password: string): Promise<string> {
  if (password.length > MAX_PASSWORD_LENGTH) throw new RangeError('password too long');
  return hash(password, PARAMETERS);
}

/** Verifies against `encoded`, or against a decoy when the user does not exist (then always false). */
export async function verifyPassword(encoded: string | undefined, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    const ok = await verify(encoded ?? DECOY_HASH, password);
    return ok && encoded !== undefined;
  } catch {
    return false;
  }
}

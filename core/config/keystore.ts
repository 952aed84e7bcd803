/**
 * Keys on disk: `$SYFT_HOME/keys/sign.key` and `agree.key`, each a JSON JWK, mode 0600.
 * @module
 */
import { posix } from "node:path";
import { describeError, SyftError } from "../errors/mod.ts";
import { writeFileAtomic } from "../fs/atomic.ts";
import {
  exportPrivateKey,
  type IdentityKeys,
  importStoredKey,
  type StoredKey,
} from "../identity/keys.ts";

/** The key file paths under a keys folder. */
export function keyFiles(keysDir: string): { sign: string; agree: string } {
  return { sign: posix.join(keysDir, "sign.key"), agree: posix.join(keysDir, "agree.key") };
}

/** Write both private keys, 0600, into an existing folder (mode 0700). */
export async function writeKeys(keysDir: string, keys: IdentityKeys): Promise<void> {
  const files = keyFiles(keysDir);
  const write = async (file: string, pair: CryptoKeyPair, alg: StoredKey["alg"]) => {
    const stored = await exportPrivateKey(pair, alg);
    await writeFileAtomic(file, JSON.stringify(stored) + "\n", { mode: 0o600 });
  };
  await write(files.sign, keys.sign, "Ed25519");
  await write(files.agree, keys.agree, "X25519");
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new SyftError("E_INPUT", `key file ${file} is missing`, {
        hint: "restore it from a backup, or create a new identity with `syft init --force`",
      });
    }
    throw new SyftError("E_INPUT", `cannot read key file ${file}: ${describeError(err)}`, {
      hint: `make it readable by this user: chmod 600 ${file}`,
    });
  }
}

/** Load both key pairs. */
export async function readKeys(keysDir: string): Promise<IdentityKeys> {
  const files = keyFiles(keysDir);
  const sign = await importStoredKey(await readKeyFile(files.sign), "Ed25519", files.sign);
  const agree = await importStoredKey(await readKeyFile(files.agree), "X25519", files.agree);
  return { sign, agree };
}

/** Key files other users could read (or that cannot be inspected): one line each, saying the fix. */
export async function keyFileProblems(keysDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const file of Object.values(keyFiles(keysDir))) {
    try {
      const info = await Deno.stat(file);
      if (info.mode !== null && (info.mode & 0o077) !== 0) {
        problems.push(`key file ${file} is readable by other users (run chmod 600 ${file})`);
      }
    } catch (err) {
      problems.push(`key file ${file}: ${describeError(err)}`);
    }
  }
  return problems;
}

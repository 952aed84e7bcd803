/**
 * The folder sign-ins are stored in, made when a sign-in runs before `init`:
 * shared by `syft auth gdrive` and `syft auth dropbox`.
 * @module
 */
import { posix } from "node:path";
import { homeLayout } from "../core/config/home.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";

/**
 * `$SYFT_HOME` (0700, made now when this runs before `init`) and its
 * `credentials/` (0700). Existing folders are left as they are: the home
 * guard has already judged them.
 */
export async function ensureCredentialsDir(home: string): Promise<string> {
  const { credentials } = homeLayout(home);
  for (const dir of [home, credentials]) {
    try {
      await Deno.mkdir(dir, { mode: 0o700 });
      await Deno.chmod(dir, 0o700); // exact, whatever the umask
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) continue;
      if (err instanceof Deno.errors.NotFound && dir === home) {
        await Deno.mkdir(posix.dirname(home), { recursive: true });
        await Deno.mkdir(home, { mode: 0o700 });
        await Deno.chmod(home, 0o700);
        continue;
      }
      throw new SyftError("E_INPUT", `cannot create ${dir}: ${describeError(err)}`, {
        hint: "choose a home you can write to (--home or SYFT_HOME)",
        cause: err,
      });
    }
  }
  return credentials;
}

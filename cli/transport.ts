/**
 * The CLI's bridge to transports: checks a spec before it is saved, and opens the
 * configured transport through the plugin host (core never imports a plugin).
 * @module
 */
import { posix } from "node:path";
import type { TransportSpec } from "../core/config/transport_spec.ts";
import { describeError, SyftError } from "../core/errors/mod.ts";
import type { Transport } from "../plugins/contract.ts";
import { startPlugin } from "../plugins/host.ts";
import { manifestFor } from "../plugins/registry.ts";

/**
 * Check that a transport can be used before it is written into config.yaml.
 * `local:` needs an existing, writable folder (created only when `create` is set,
 * i.e. for the default folder).
 * @throws {SyftError} `E_TRANSPORT` (exit 4) with a hint
 */
export async function checkTransportSpec(
  spec: TransportSpec,
  options: { create: boolean },
): Promise<void> {
  if (spec.kind !== "local") {
    throw new SyftError("E_UNIMPLEMENTED", `the ${spec.kind} transport is not built yet`, {
      hint: "use --transport local:<dir> (a folder both peers can reach)",
    });
  }
  const dir = spec.dir;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && options.create) {
      await Deno.mkdir(dir, { recursive: true });
      return;
    }
    if (err instanceof Deno.errors.NotFound) {
      throw new SyftError("E_TRANSPORT", `local transport folder ${dir} does not exist`, {
        hint: `create it (mkdir -p ${dir}), or pass --transport local:<an existing folder>`,
      });
    }
    throw new SyftError("E_TRANSPORT", `cannot use local transport folder ${dir}: ${describeError(err)}`, {
      hint: "check the folder's permissions",
    });
  }
  if (!info.isDirectory) {
    throw new SyftError("E_TRANSPORT", `local transport path ${dir} is not a folder`, {
      hint: "pass --transport local:<a folder>",
    });
  }
  const probe = posix.join(dir, `.syft-probe-${crypto.randomUUID()}`);
  try {
    await Deno.writeTextFile(probe, "", { createNew: true });
    await Deno.remove(probe);
  } catch (err) {
    throw new SyftError("E_TRANSPORT", `local transport folder ${dir} is not writable: ${describeError(err)}`, {
      hint: `give this user write access (chmod u+w ${dir}) or choose another folder`,
    });
  }
}

/**
 * Start the configured transport's plugin in its Worker.
 * @throws {SyftError} `E_TRANSPORT` when it cannot start
 */
export async function openTransport(
  config: { email: string; transport: string },
  home: string,
  options: { callTimeoutMs?: number } = {},
): Promise<Transport> {
  const manifest = manifestFor(config.transport, { identity: config.email, home });
  return await startPlugin(manifest, options);
}

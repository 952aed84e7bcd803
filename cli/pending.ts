/**
 * Command groups of CLI.md that later work builds. They are listed in `--help`
 * so the surface is visible, and say plainly that they are not built yet (exit 2).
 * @module
 */
import type { Command } from "commander";
import { SyftError } from "../core/errors/mod.ts";

const PENDING: readonly (readonly [string, string])[] = [
  ["auth", "sign in to Google Drive or Dropbox"],
];

/** Register the not-yet-built groups. */
export function registerPending(program: Command): void {
  for (const [name, summary] of PENDING) {
    program
      .command(name)
      .summary(summary)
      .allowUnknownOption()
      .allowExcessArguments()
      .helpOption(false)
      .action(() => {
        throw new SyftError("E_UNIMPLEMENTED", `syft ${name} is not built yet`, {
          hint: "run `syft --help` for the commands available in this version",
        });
      });
  }
}

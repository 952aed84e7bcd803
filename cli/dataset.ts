/**
 * `syft dataset create | list | show | delete | path`
 *
 * Only local files are touched; `create` and `delete` then run one sync round
 * (as peer commands do) so readers get the change at their next sync.
 * @module
 */
import type { Command } from "commander";
import { posix } from "node:path";
import { loadConfig } from "../core/config/load.ts";
import { datasiteDir } from "../core/datasite/layout.ts";
import {
  createDataset,
  deleteDataset,
  findDataset,
  listDatasets,
  mockFolder,
  ownDatasetExists,
  ownFolders,
  parseDatasetName,
  parseReaders,
  planDatasetCreate,
  readReadme,
  readSource,
  takenError,
} from "../core/datasets/mod.ts";
import { SyftError } from "../core/errors/mod.ts";
import { parseIdentity } from "../core/paths/identity.ts";
import { loadDatasitePermissions } from "../core/permissions/mod.ts";
import { recordDecision } from "./audit.ts";
import { type Context, withContext } from "./context.ts";
import { syncAfterChange } from "./round_hook.ts";

/** Register the `dataset` group. */
export function registerDataset(program: Command): void {
  const dataset = program
    .command("dataset")
    .summary("publish mock data and keep private data private");

  dataset
    .command("create <name>")
    .summary("publish a mock under public/syft_datasets/<name>/; private data stays in private/")
    .requiredOption("--mock <path>", "the mock data (a file or a folder): published to readers")
    .requiredOption("--private <path>", "the real data (a file or a folder): never leaves")
    .option("--summary <text>", "one line about the data")
    .option("--readme <file>", "a text file describing the data (kept in dataset.yaml)")
    .option("--users <emails>", "only these peers may read the mock (comma-separated)")
    .option("--public", "every peer may read the mock (the default)")
    .action(withContext(runCreate));

  dataset
    .command("list")
    .summary("your datasets and those in peers' mirrors")
    .option("--owner <email>", "only this owner's datasets")
    .action(withContext(runList));

  dataset
    .command("show <name>")
    .summary("a dataset's files, hashes and readme; for yours, the private folder and readers")
    .option("--owner <email>", "whose dataset, when several owners have one by that name")
    .action(withContext(runShow));

  dataset
    .command("delete <name>")
    .summary("remove your dataset (mock and private); peers' copies go at their next sync")
    .option("--yes", "do not ask for confirmation")
    .action(withContext(runDelete));

  dataset
    .command("path <name>")
    .summary(
      "print the folder of a dataset's mock (e.g. SYFT_DATASET_AGES=$(syft dataset path ages))",
    )
    .option("--owner <email>", "whose dataset, when several owners have one by that name")
    .action(withContext(runPath));
}

interface CreateFlags {
  mock: string;
  private: string;
  summary?: string;
  readme?: string;
  users?: string;
  public?: boolean;
}

async function runCreate(ctx: Context, flags: CreateFlags, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  // Everything is checked, cheapest first, before a byte is written.
  const name = parseDatasetName(args[0] ?? "");
  parseReaders(flags.users, flags.public);
  if (await ownDatasetExists(config.root, config.email, name)) throw takenError(name);
  const readme = flags.readme === undefined
    ? null
    : await readReadme(posix.resolve(ctx.cwd, flags.readme));
  const mock = await readSource("mock", posix.resolve(ctx.cwd, flags.mock));
  const priv = await readSource("private", posix.resolve(ctx.cwd, flags.private));
  const plan = planDatasetCreate({
    name,
    mock,
    private: priv,
    users: flags.users,
    public: flags.public,
    summary: flags.summary,
    readme,
  });
  const created = await createDataset(config.root, config.email, plan);
  await recordDecision(ctx, config.email, "dataset.create", name, {
    readers: plan.readers,
    mock_from: plan.mock.path,
    mock_files: plan.mock.files.length,
    private_from: plan.private.path,
    private_files: plan.private.files.length,
  });
  ctx.out.result(
    { ...created.meta, mock_dir: created.mock_dir, private_dir: created.private_dir },
    (r) => {
      ctx.out.line(`created dataset ${r.name} (${r.mock_files.length} mock file(s))`);
      ctx.out.fields([
        ["mock", r.mock_dir],
        ["private", `${r.private_dir} (never leaves this machine)`],
        ["readers", plan.readers.includes("*") ? "every peer" : plan.readers.join(", ")],
      ]);
      ctx.out.line("peers get the mock at their next sync");
    },
  );
  await syncAfterChange(ctx);
}

async function runList(ctx: Context, flags: { owner?: string }): Promise<void> {
  const config = await loadConfig(ctx.home);
  const owner = flags.owner === undefined ? undefined : parseIdentity(flags.owner, "--owner");
  const found = await listDatasets(config.root, config.email, {
    owner,
    onProblem: (m) => ctx.out.warn(m),
  });
  const rows = found.map((d) => ({
    name: d.name,
    owner: d.owner,
    summary: d.summary,
    mock_files: d.mock_files,
    updated_at: d.updated_at,
  }));
  ctx.out.result(rows, (list) => {
    if (list.length === 0) {
      ctx.out.line(
        "no datasets yet (`syft dataset create` makes one; peers' appear after `syft sync`)",
      );
      return;
    }
    ctx.out.table(list, [
      { header: "name", value: (r) => r.name },
      { header: "owner", value: (r) => (r.owner === config.email ? `${r.owner} (you)` : r.owner) },
      { header: "mock files", value: (r) => String(r.mock_files.length) },
      { header: "updated", value: (r) => r.updated_at },
      { header: "summary", value: (r) => r.summary },
    ]);
  });
}

function ownerFlag(raw: string | undefined): string | undefined {
  return raw === undefined ? undefined : parseIdentity(raw, "--owner");
}

async function locate(ctx: Context, name: string, owner: string | undefined) {
  const config = await loadConfig(ctx.home);
  const dataset = await findDataset(config.root, config.email, name, ownerFlag(owner));
  return { config, dataset };
}

async function privateFileCount(dir: string): Promise<number> {
  let n = 0;
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(posix.join(d, e.name));
      else n++;
    }
  };
  await walk(dir).catch(() => {});
  return n;
}

async function runShow(ctx: Context, flags: { owner?: string }, args: string[]): Promise<void> {
  const { config, dataset } = await locate(ctx, args[0] ?? "", flags.owner);
  const own = dataset.owner === config.email;
  let private_dir: string | null = null;
  let readers: string[] | null = null;
  let private_files: number | null = null;
  if (own) {
    private_dir = ownFolders(config.root, config.email, dataset.name).priv;
    private_files = await privateFileCount(private_dir);
    const site = datasiteDir(config.root, config.email);
    const engine = await loadDatasitePermissions(site);
    const e = engine.explain(config.email, `${mockFolder(dataset.name)}/dataset.yaml`);
    readers = e.access
      ? [...new Set([...e.access.admin, ...e.access.write, ...e.access.read])]
      : [];
  }
  const { location, ...meta } = dataset;
  const value = { ...meta, mock_dir: location, private_dir, private_files, readers };
  ctx.out.result(value, (r) => {
    ctx.out.fields([
      ["name", r.name],
      ["owner", own ? `${r.owner} (you)` : r.owner],
      ["summary", r.summary || "(none)"],
      ["created", r.created_at],
      ["updated", r.updated_at],
      ["mock", r.mock_dir],
      ...(own
        ? [
          ["private", `${r.private_dir} (${r.private_files} file(s), never leaves)`] as const,
          [
            "readers",
            r.readers!.length === 0
              ? "nobody but you"
              : r.readers!.includes("*")
              ? "every peer"
              : r.readers!.join(", "),
          ] as const,
        ]
        : []),
    ]);
    ctx.out.line(`mock files (${r.mock_files.length}):`);
    ctx.out.table(r.mock_files, [
      { header: "path", value: (f) => f.path },
      { header: "size", value: (f) => String(f.size) },
      { header: "sha256", value: (f) => f.sha256 },
    ]);
    if (r.readme !== null) {
      ctx.out.line("readme:");
      for (const l of r.readme.trimEnd().split("\n")) ctx.out.line(`  ${l}`);
    }
  });
}

async function runDelete(ctx: Context, flags: { yes?: boolean }, args: string[]): Promise<void> {
  const config = await loadConfig(ctx.home);
  const name = parseDatasetName(args[0] ?? "");
  if (!(await ownDatasetExists(config.root, config.email, name))) {
    const elsewhere = await findDataset(config.root, config.email, name).catch(() => null);
    if (elsewhere) {
      throw new SyftError("E_INPUT", `dataset "${name}" belongs to ${elsewhere.owner}, not you`, {
        hint: "only its owner can delete it; you can delete only your own datasets",
      });
    }
    throw new SyftError("E_INPUT", `you have no dataset named "${name}"`, {
      hint: "`syft dataset list --owner " + config.email + "` shows yours",
    });
  }
  if (!flags.yes) {
    if (!ctx.interactive) {
      throw new SyftError("E_USAGE", `deleting dataset "${name}" needs confirmation`, {
        hint: `pass --yes: syft dataset delete ${name} --yes`,
      });
    }
    if (!confirm(`Delete dataset "${name}" (mock and private data)?`)) {
      ctx.out.line("nothing deleted");
      return;
    }
  }
  const removed = await deleteDataset(config.root, config.email, name);
  if (removed.length > 0) {
    await recordDecision(ctx, config.email, "dataset.delete", name, { removed });
  }
  ctx.out.result({ name, deleted: removed }, () => {
    ctx.out.line(`deleted dataset ${name}`);
    for (const dir of removed) ctx.out.line(`  removed ${dir}`);
    ctx.out.line("peers' copies disappear at their next sync");
  });
  // The user asked for these deletions: a large dataset must not trip the mass-delete guard.
  await syncAfterChange(ctx, { allowMassDelete: true });
}

async function runPath(ctx: Context, flags: { owner?: string }, args: string[]): Promise<void> {
  const { dataset } = await locate(ctx, args[0] ?? "", flags.owner);
  const value = {
    path: dataset.location,
    dataset: dataset.name,
    owner: dataset.owner,
  };
  ctx.out.result(value, (r) => ctx.out.line(r.path));
}

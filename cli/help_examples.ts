/**
 * What `--help` says beyond what the commands register: two or three
 * examples per command, and the facts the parser cannot see. Keyed by command
 * path ("" is `syft` itself, "job policy add" a leaf). cli/help.ts applies it;
 * tests/cli/help_test.ts parses every example against the command tree.
 * @module
 */

/** Invocations a user would type, each starting with `syft `. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  "": [
    "syft init --email ds@lab.org --transport local:/mnt/shared/syft",
    "syft peer add owner@hospital.org",
    "syft job list --json",
  ],
  "init": [
    "syft init --email you@example.org --transport local:/mnt/shared/syft",
    "syft init --email you@example.org --transport gdrive",
    "syft init --email you@example.org --transport local:/mnt/shared/syft --root ~/SyftBox",
  ],
  "auth": [
    "syft auth gdrive --client-file ~/Downloads/client_secret.json",
    "syft auth gdrive --client-file client_secret.json --no-browser",
    "syft auth dropbox --app-key abc123def456ghi",
  ],
  "auth gdrive": [
    "syft auth gdrive --client-file ~/Downloads/client_secret.json",
    "syft auth gdrive --client-file client_secret.json --email you@example.org",
    "syft auth gdrive --client-file client_secret.json --no-browser",
  ],
  "auth dropbox": [
    "syft auth dropbox --app-key abc123def456ghi",
    "syft auth dropbox --app-key abc123def456ghi --email you@example.org",
    "syft auth dropbox --no-browser",
  ],
  "status": ["syft status", "syft status --json"],
  "audit": [
    "syft audit",
    "syft audit --since 7d --action peer",
    "syft audit --action job.release --json",
  ],
  "doctor": ["syft doctor", "syft doctor --fix", "syft doctor --json"],
  "perm": [
    "syft perm grant reports/ ds@lab.org --read",
    "syft perm check reports/summary.csv --user ds@lab.org --access read",
    "syft perm list",
  ],
  "perm check": [
    "syft perm check reports/summary.csv --user ds@lab.org --access read",
    "syft perm check public/ --user ds@lab.org --access write --json",
    "syft perm check a.csv --user ds@lab.org --access read --datasite ./owner@hospital.org",
  ],
  "perm explain": [
    "syft perm explain reports/summary.csv",
    "syft perm explain reports/ --user ds@lab.org",
  ],
  "perm grant": [
    "syft perm grant reports/ ds@lab.org --read",
    "syft perm grant shared/notes.md ds@lab.org --write",
    "syft perm grant reports/ '*@lab.org' --read",
  ],
  "perm revoke": [
    "syft perm revoke reports/ ds@lab.org",
    "syft perm revoke reports/ '*@lab.org'",
  ],
  "perm list": ["syft perm list", "syft perm list ~/SyftBox/owner@hospital.org --json"],
  "peer": [
    "syft peer add owner@hospital.org",
    "syft peer approve ds@lab.org --fingerprint 3f2a9c015b7e0d44a1c9e2f06b3877de",
    "syft peer list",
  ],
  "peer add": ["syft peer add owner@hospital.org", "syft peer add owner@hospital.org --via lab"],
  "peer list": ["syft peer list", "syft peer list --json"],
  "peer approve": [
    "syft peer approve ds@lab.org --fingerprint 3f2a9c015b7e0d44a1c9e2f06b3877de",
    "syft peer approve ds@lab.org",
  ],
  "peer reject": [
    "syft peer reject stranger@example.com",
    "syft peer reject ds@lab.org --reason 'we have not met'",
  ],
  "peer remove": ["syft peer remove ds@lab.org", "syft peer remove ds@lab.org --json"],
  "peer show": ["syft peer show owner@hospital.org", "syft peer show owner@hospital.org --json"],
  "peer trust": [
    "syft peer trust owner@hospital.org --fingerprint 9c01e2f03f2a77de5b7e0d44a1c96b38",
    "syft peer trust owner@hospital.org --fingerprint '9c01 e2f0 3f2a 77de 5b7e 0d44 a1c9 6b38'",
  ],
  "sync": ["syft sync", "syft sync --watch", "syft sync --watch --interval 30"],
  "transport": [
    "syft transport add lab local:/mnt/lab-share",
    "syft transport list",
    "syft transport remove lab",
  ],
  "transport add": [
    "syft transport add lab local:/mnt/lab-share",
    "syft transport add drive gdrive",
  ],
  "transport list": ["syft transport list", "syft transport list --json"],
  "transport remove": ["syft transport remove lab", "syft transport remove lab --json"],
  "dataset": [
    "syft dataset create ages --mock ./mock --private ./real",
    "syft dataset list",
    "syft dataset path ages",
  ],
  "dataset create": [
    "syft dataset create ages --mock ./mock --private ./real",
    "syft dataset create ages --mock mock.csv --private ages.csv --summary 'ages by region'",
    "syft dataset create ages --mock ./mock --private ./real --users ds@lab.org",
  ],
  "dataset list": ["syft dataset list", "syft dataset list --owner owner@hospital.org --json"],
  "dataset show": ["syft dataset show ages", "syft dataset show ages --owner owner@hospital.org"],
  "dataset delete": ["syft dataset delete ages", "syft dataset delete ages --yes"],
  "dataset path": ["syft dataset path ages", "syft dataset path ages --owner owner@hospital.org"],
  "job": [
    "syft job submit --to owner@hospital.org --script run.sh --dataset ages",
    "syft job list --status pending",
    "syft job results age-stats-3f9a1c2e --out results",
  ],
  "job submit": [
    "syft job submit --to owner@hospital.org --script run.sh --dataset ages",
    "syft job submit --to a@x.org,b@y.org --dir ./job --name age-stats",
    "syft job submit --to owner@hospital.org --python main.py --dep pandas",
  ],
  "job try": [
    "syft job try run.sh --dataset ages",
    "syft job try ./job --dataset ages --out ./try-out",
    "syft job try run.sh --dataset ages --owner owner@hospital.org",
  ],
  "job approve": [
    "syft job approve age-stats-3f9a1c2e --hash " +
    "9b1e5c0f2a7d48e3b6c1f0a9d8e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9",
    "syft job approve age-stats-3f9a1c2e",
  ],
  "job reject": [
    "syft job reject age-stats-3f9a1c2e --reason 'reads more than it needs'",
    "syft job reject ds@lab.org/age-stats-3f9a1c2e",
  ],
  "job run": [
    "syft job run age-stats-3f9a1c2e",
    "syft job run --all-approved --release",
    "syft job run age-stats-3f9a1c2e --timeout 1200 --max-output 500",
  ],
  "job release": [
    "syft job release age-stats-3f9a1c2e",
    "syft job release ds@lab.org/age-stats-3f9a1c2e",
  ],
  "job list": [
    "syft job list",
    "syft job list --status pending",
    "syft job list --owner owner@hospital.org --json",
  ],
  "job show": ["syft job show age-stats-3f9a1c2e", "syft job show age-stats-3f9a1c2e --json"],
  "job logs": ["syft job logs age-stats-3f9a1c2e", "syft job logs age-stats-3f9a1c2e --follow"],
  "job results": [
    "syft job results age-stats-3f9a1c2e --out results",
    "syft job results age-stats-3f9a1c2e --json",
  ],
  "job wait": [
    "syft job wait age-stats-3f9a1c2e",
    "syft job wait age-stats-3f9a1c2e --timeout 3600",
  ],
  "job policy": [
    "syft job policy add nightly --from age-stats-3f9a1c2e",
    "syft job policy list",
    "syft job policy remove nightly",
  ],
  "job policy add": [
    "syft job policy add nightly --from age-stats-3f9a1c2e",
    "syft job policy add nightly --from age-stats-3f9a1c2e --peers ds@lab.org,ml@lab.org",
  ],
  "job policy list": ["syft job policy list", "syft job policy list --json"],
  "job policy remove": ["syft job policy remove nightly", "syft job policy remove nightly --json"],
};

/**
 * Options every form of a command needs although the parser does not insist:
 * the handler asks for them on a terminal, or explains a missing one better
 * than the parser's generic error would.
 */
export const REQUIRED_ELSEWHERE: Readonly<Record<string, readonly string[]>> = {
  "init": ["--email", "--transport"],
  "auth gdrive": ["--client-file"],
  "job try": ["--dataset"],
};

/** Options of which the command needs exactly one. */
export const ONE_OF: Readonly<Record<string, readonly string[]>> = {
  "job submit": ["--script", "--dir", "--python"],
  "perm grant": ["--read", "--write", "--admin"],
};

/** Commands that print no JSON document with --json (every other leaf does). */
export const WITHOUT_JSON: ReadonlySet<string> = new Set([]);

/** What --json prints, where the generic words would mislead. */
export const JSON_NOTES: Readonly<Record<string, string>> = {
  "sync":
    "print the round's summary as one JSON document; with --watch, one JSON object per line (start, each round that moved something, stop)",
};

/**
 * Dataset names and where a dataset lives inside a datasite.
 * @module
 */
import { SyftError } from "../errors/mod.ts";

/** The dataset name grammar of docs/cli.md. */
export const DATASET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The folder under `public/` and `private/` that holds datasets. */
export const DATASETS_FOLDER = "syft_datasets";

/** The metadata file at the top of a dataset's mock folder. */
export const DATASET_META_FILE = "dataset.yaml";

/**
 * Check a dataset name typed by a user or found in a folder name.
 *
 * @example
 * ```ts
 * parseDatasetName("ages-2024"); // "ages-2024"
 * parseDatasetName("../x"); // throws E_INPUT
 * ```
 * @throws {SyftError} `E_INPUT` unless it matches {@linkcode DATASET_NAME_RE}.
 */
export function parseDatasetName(raw: string): string {
  if (!DATASET_NAME_RE.test(raw)) {
    throw new SyftError("E_INPUT", `dataset name ${JSON.stringify(raw)} is not valid`, {
      hint:
        "use 1 to 64 letters, digits, _ and -, starting with a letter or digit (e.g. ages-2024)",
    });
  }
  return raw;
}

/**
 * Datasite-relative folder of a dataset's mock (and its `dataset.yaml`).
 *
 * @example
 * ```ts
 * mockFolder("ages"); // "public/syft_datasets/ages"
 * ```
 */
export function mockFolder(name: string): string {
  return `public/${DATASETS_FOLDER}/${name}`;
}

/**
 * Datasite-relative folder of a dataset's private files (never leaves the machine).
 *
 * @example
 * ```ts
 * privateFolder("ages"); // "private/syft_datasets/ages"
 * ```
 */
export function privateFolder(name: string): string {
  return `private/${DATASETS_FOLDER}/${name}`;
}

/**
 * The environment variable a job reads a dataset's folder from (docs/cli.md:
 * upper-cased, `-` as `_`).
 *
 * @example
 * ```ts
 * datasetEnvVar("ages-2024"); // "SYFT_DATASET_AGES_2024"
 * ```
 */
export function datasetEnvVar(name: string): string {
  return `SYFT_DATASET_${name.toUpperCase().replaceAll("-", "_")}`;
}

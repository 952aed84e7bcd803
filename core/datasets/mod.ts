/**
 * Datasets: a mock published under `public/syft_datasets/<name>/` with its
 * `dataset.yaml`, and private data under `private/syft_datasets/<name>/` that
 * never leaves the machine.
 *
 * - {@linkcode parseDatasetName}, {@linkcode mockFolder}, {@linkcode privateFolder}: names and places.
 * - {@linkcode parseDatasetMeta} / {@linkcode serializeDatasetMeta}: `dataset.yaml`.
 * - {@linkcode readSource}, {@linkcode planDatasetCreate}: every check before a write.
 * - {@linkcode createDataset}, {@linkcode deleteDataset}, {@linkcode listDatasets},
 *   {@linkcode findDataset}: datasets on disk.
 * @module
 */
export * from "./name.ts";
export * from "./meta.ts";
export * from "./plan.ts";
export * from "./store.ts";

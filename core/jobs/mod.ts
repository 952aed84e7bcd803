/**
 * Jobs: the folder a data scientist sends, its lifecycle at the owner, the
 * runner that hands it to the sandbox, and auto-approval policies.
 * @module
 */
export * from "./audit.ts";
export * from "./catalog.ts";
export * from "./config.ts";
export * from "./dataset_access.ts";
export * from "./desk.ts";
export * from "./intake.ts";
export * from "./layout.ts";
export * from "./moves.ts";
export * from "./outcome.ts";
export * from "./policies.ts";
export * from "./policy_hash.ts";
export * from "./review.ts";
export * from "./runner.ts";
export * from "./state.ts";
export * from "./submit.ts";
export * from "./verify.ts";

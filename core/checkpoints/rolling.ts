/**
 * Rolling state (docs/protocol.md §6): the publication events written on a channel
 * since its last checkpoint, kept as the latest event per path, with the count
 * that decides when the next checkpoint is due and which kind it is.
 * Pure: the caller stores it inside the channel's state file.
 * @module
 */
import type { FileChangeEvent } from "../events/types.ts";

/** The writer's accumulation since its last checkpoint. */
export interface RollingState {
  /** path → the latest publication event since the last checkpoint. */
  events: Record<string, FileChangeEvent>;
  /** Publication events written since the last checkpoint (repeats of a path count). */
  count: number;
  /** Incremental checkpoints written since the last full one. */
  ci_since_cf: number;
}

/** When checkpoints are written (config `sync.checkpoint_threshold`, `sync.compact_threshold`). */
export interface CheckpointThresholds {
  /** Events in the rolling state that make a checkpoint due (default 50). */
  checkpoint: number;
  /** Incrementals after which the next checkpoint is a full one (default 10). */
  compact: number;
}

/** Defaults of docs/protocol.md §6. */
export const DEFAULT_THRESHOLDS: CheckpointThresholds = { checkpoint: 50, compact: 10 };

/** Nothing since the last checkpoint. */
export function emptyRolling(): RollingState {
  return { events: {}, count: 0, ci_since_cf: 0 };
}

/** Add a batch's publication events (proposals never enter checkpoints). */
export function addToRolling(
  rolling: RollingState,
  sender: string,
  events: readonly FileChangeEvent[],
): RollingState {
  const own = events.filter((e) => e.datasite === sender);
  if (own.length === 0) return rolling;
  const next = { ...rolling.events };
  for (const e of own) next[e.path] = e;
  return { ...rolling, events: next, count: rolling.count + own.length };
}

/** The checkpoint due now, if any: an incremental, or a full one after `compact` of them. */
export function checkpointDue(
  rolling: RollingState,
  thresholds: CheckpointThresholds,
): "ci" | "cf" | null {
  if (rolling.count < thresholds.checkpoint) return null;
  return rolling.ci_since_cf >= thresholds.compact ? "cf" : "ci";
}

/** The rolling state after a checkpoint of `kind` was written. */
export function afterCheckpoint(rolling: RollingState, kind: "ci" | "cf"): RollingState {
  return { events: {}, count: 0, ci_since_cf: kind === "cf" ? 0 : rolling.ci_since_cf + 1 };
}

/** A ci's events: the latest per path, in path order (deterministic bytes). */
export function incrementalEvents(rolling: RollingState): FileChangeEvent[] {
  return Object.keys(rolling.events).sort().map((p) => rolling.events[p]!);
}

/**
 * What a round needs only when a channel has work: the reader, the writer and
 * the permission engine (which loads the YAML parser). core/sync/round.ts
 * loads this (a computed specifier, core/lazy_import.ts) at the first channel
 * it reads or writes, so an idle round never compiles them.
 * @module
 */
export { ChannelReader } from "./channel_reader.ts";
export { ChannelWriter } from "./channel_writer.ts";
export { loadDatasitePermissions } from "../permissions/mod.ts";

/**
 * One look for every command's `--help`, applied once after registration:
 * examples, required options marked "(required)" and named in the usage line,
 * `--json` listed on the commands that print JSON, no parser-internal defaults
 * such as `(default: [])`, and nothing wider than 80 columns.
 * @module
 */
import { type Command, Help, Option } from "commander";
import { EXAMPLES, JSON_NOTES, ONE_OF, REQUIRED_ELSEWHERE, WITHOUT_JSON } from "./help_examples.ts";

/** Help is read at 80 columns even on a wide terminal; narrower ones get their width. */
export function helpWidth(columns: number | undefined): number {
  return columns === undefined || columns <= 0 ? 80 : Math.min(columns, 80);
}

/** A command's path below `syft`: "" for syft itself, "job policy add" for a leaf. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Whether `cmd` prints one JSON document with the global `--json` (groups do not). */
export function honoursJson(cmd: Command): boolean {
  return cmd.parent !== null && cmd.commands.length === 0 && !WITHOUT_JSON.has(commandPath(cmd));
}

/** The long flags `cmd` needs in every form: parser-mandatory or checked by its handler. */
export function requiredFlags(cmd: Command): string[] {
  const elsewhere = REQUIRED_ELSEWHERE[commandPath(cmd)] ?? [];
  return cmd.options
    .filter((o) => o.mandatory || (o.long !== undefined && elsewhere.includes(o.long)))
    .map((o) => o.long ?? o.flags);
}

/** Every command under `root`, `root` first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c))];
}

/**
 * The command `args` name (global options and their values skipped), as
 * `syft job submit`: where a parser error's hint sends the user for help.
 */
export function commandNamed(program: Command, args: readonly string[]): string {
  let cmd = program;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      const option = [...cmd.options, ...program.options].find((o) => o.long === arg);
      if (option?.required) i++; // its value
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    cmd = sub;
  }
  return `syft ${commandPath(cmd)}`.trim();
}

/** Apply the help look to `program` and every command registered under it. */
export function applyHelp(program: Command, columns: number | undefined = terminalColumns()): void {
  const width = helpWidth(columns);
  for (const cmd of allCommands(program)) {
    markRequired(cmd);
    cmd.createHelp = () => Object.assign(new SyftHelp(width), cmd.configureHelp());
  }
}

function terminalColumns(): number | undefined {
  try {
    return Deno.stdout.isTerminal() ? Deno.consoleSize().columns : undefined;
  } catch {
    return undefined;
  }
}

/** "(required)" on each required option, and the usage line naming them. */
function markRequired(cmd: Command): void {
  const path = commandPath(cmd);
  const required = requiredFlags(cmd);
  const oneOf = ONE_OF[path] ?? [];
  for (const o of cmd.options) {
    if (o.long === undefined) continue;
    if (required.includes(o.long)) o.description = `(required) ${o.description}`;
    if (oneOf.includes(o.long)) {
      const others = oneOf.filter((f) => f !== o.long);
      o.description = `(required unless ${others.join(" or ")}) ${o.description}`;
    }
  }
  if (required.length === 0 && oneOf.length === 0) return;
  const term = (flag: string) => cmd.options.find((o) => o.long === flag)?.flags ?? flag;
  const parts = ["[options]", ...required.map(term)];
  if (oneOf.length > 0) parts.push(`(${oneOf.map(term).join(" | ")})`);
  for (const a of cmd.registeredArguments) {
    const name = a.name() + (a.variadic ? "..." : "");
    parts.push(a.required ? `<${name}>` : `[${name}]`);
  }
  cmd.usage(parts.join(" "));
}

/** The option `--json` shows as on a command that prints JSON. */
function jsonOption(cmd: Command): Option {
  return new Option(
    "--json",
    JSON_NOTES[commandPath(cmd)] ?? "print the result as one JSON document on stdout",
  );
}

/** Commander's help with syft's additions; see the module comment. */
class SyftHelp extends Help {
  constructor(width: number) {
    super();
    this.helpWidth = width;
  }

  /** `--json` among the command's own options, just before `--help`. */
  override visibleOptions(cmd: Command): Option[] {
    const options = super.visibleOptions(cmd);
    if (!honoursJson(cmd)) return options;
    const help = options.findIndex((o) => o.long === "--help");
    options.splice(help < 0 ? options.length : help, 0, jsonOption(cmd));
    return options;
  }

  /**
   * Choices, and defaults only where a command spelled one out: commander's own
   * (`[]` for a repeatable option, `false`) describe the parser, not the command.
   */
  override optionDescription(option: Option): string {
    const extra: string[] = [];
    if (option.argChoices) extra.push(`one of: ${option.argChoices.join(", ")}`);
    if (option.defaultValueDescription) extra.push(`default: ${option.defaultValueDescription}`);
    if (extra.length === 0) return option.description;
    return `${option.description} (${extra.join("; ")})`.trim();
  }

  /** The description reflowed: its source breaks lines at 100 columns, help wraps at 80. */
  override commandDescription(cmd: Command): string {
    return reflow(super.commandDescription(cmd));
  }

  /** The usage line, wrapped under itself when long. */
  override commandUsage(cmd: Command): string {
    const indent = "Usage: ".length;
    return this.boxWrap(super.commandUsage(cmd), (this.helpWidth ?? 80) - indent)
      .replaceAll("\n", "\n" + " ".repeat(indent));
  }

  override formatHelp(cmd: Command, helper: Help): string {
    const examples = EXAMPLES[commandPath(cmd)] ?? [];
    const text = super.formatHelp(cmd, helper);
    if (examples.length === 0) return text;
    const width = this.helpWidth ?? 80;
    const lines = examples.map((e) => wrapExample(`$ ${e}`, width - 2, "  ")).join("\n");
    return `${text}\nExamples:\n${lines}\n`;
  }
}

/**
 * Lines of one paragraph joined, so wrapping does not leave a short line at
 * each source break; blank lines, indented lines and list items stay as they are.
 */
export function reflow(text: string): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (const line of lines) {
    const previous = out.at(-1);
    const startsBlock = line === "" || /^(\s|[-*] |\d+[.)] )/.test(line);
    if (previous !== undefined && previous !== "" && !startsBlock) {
      out[out.length - 1] = `${previous} ${line}`;
    } else {
      out.push(line);
    }
  }
  return out.join("\n");
}

/**
 * `line` wrapped between words with shell line continuations (` \`), so a long
 * example still pastes as one command; `indent` starts every line.
 */
function wrapExample(line: string, width: number, indent: string): string {
  // An option stays on one line with its value.
  const words: string[] = [];
  for (const { raw } of shellWords(line)) {
    const last = words.at(-1);
    if (last !== undefined && /^--[^=\s]+$/.test(last) && !raw.startsWith("-")) {
      words[words.length - 1] = `${last} ${raw}`;
    } else {
      words.push(raw);
    }
  }
  const out: string[] = [];
  let current = "";
  for (const [i, word] of words.entries()) {
    const next = current === "" ? word : `${current} ${word}`;
    // Room for the " \" a continued line ends with; the last word ends the command.
    const room = i === words.length - 1 ? width : width - 2;
    if (current !== "" && next.length > room) {
      out.push(`${indent}${current} \\`);
      current = `    ${word}`;
    } else {
      current = next;
    }
  }
  out.push(indent + current);
  return out.join("\n");
}

/** One word of a command line: as typed, and as the program receives it. */
export interface ShellWord {
  raw: string;
  value: string;
}

/**
 * Split a command line into words as a POSIX shell would for the quoting the
 * examples use (single and double quotes, no escapes or expansions).
 */
export function shellWords(line: string): ShellWord[] {
  const words: ShellWord[] = [];
  let raw = "";
  let value = "";
  let quote: "'" | '"' | null = null;
  let inWord = false;
  for (const ch of line) {
    if (quote !== null) {
      raw += ch;
      if (ch === quote) quote = null;
      else value += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      raw += ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push({ raw, value });
      raw = "";
      value = "";
      inWord = false;
    } else {
      raw += ch;
      value += ch;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`unbalanced ${quote} in ${JSON.stringify(line)}`);
  if (inWord) words.push({ raw, value });
  return words;
}

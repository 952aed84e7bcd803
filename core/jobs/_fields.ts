/**
 * Strict readers for the YAML documents of a job (`config.yaml`,
 * `status/state.yaml`, the policy file): each failure names the file and the
 * field, so a malformed document fails at its parse step, once.
 * @module
 */
import { isMap, isScalar, parseDocument, visit } from "yaml";
import { SyftError, type SyftErrorCode } from "../errors/mod.ts";

/** Documents of a job are small; anything larger is not ours. */
export const MAX_JOB_DOC_BYTES = 1024 * 1024;

/** A parsed mapping and the file it came from, for error messages. */
export class Fields {
  private constructor(
    readonly file: string,
    private readonly map: Record<string, unknown>,
    private readonly code: SyftErrorCode,
  ) {}

  /** Parse YAML text that must be a mapping. */
  static parse(text: string, file: string, code: SyftErrorCode): Fields {
    if (text.length > MAX_JOB_DOC_BYTES) throw new SyftError(code, `${file} is larger than 1 MiB`);
    let doc: unknown;
    try {
      // logLevel "error": the yaml package would print warnings (quoting the
      // peer's text, escapes and all) on stderr. Duplicate keys are found by
      // one pass below: the package's own uniqueKeys check is quadratic.
      const parsed = parseDocument(text, { uniqueKeys: false, logLevel: "error" });
      const first = parsed.errors[0];
      if (first) throw first;
      const duplicate = firstDuplicateKey(parsed);
      if (duplicate !== null) throw new Error(`map keys must be unique: "${duplicate}"`);
      doc = parsed.toJS();
    } catch (err) {
      const first = String(err instanceof Error ? err.message : err).split("\n")[0];
      throw new SyftError(code, `${file} is not valid YAML: ${first}`);
    }
    return Fields.of(doc, file, code);
  }

  /** Wrap a value that must be a mapping. */
  static of(doc: unknown, file: string, code: SyftErrorCode, where = ""): Fields {
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
      throw new SyftError(code, `${file}: ${where || "the document"} must be a mapping`);
    }
    return new Fields(file, doc as Record<string, unknown>, code);
  }

  /** Fail naming the field. */
  fail(field: string, problem: string): never {
    throw new SyftError(this.code, `${this.file}: "${field}" ${problem}`);
  }

  /** The raw value of a field. */
  raw(field: string): unknown {
    return this.map[field];
  }

  /** A non-empty string, optionally matching a pattern. */
  string(field: string, re?: RegExp): string {
    const v = this.map[field];
    if (typeof v !== "string" || v.length === 0) this.fail(field, "must be a non-empty string");
    if (re && !re.test(v as string)) this.fail(field, `${JSON.stringify(v)} is not valid`);
    return v as string;
  }

  /** A string, or null when absent or null. */
  optionalString(field: string): string | null {
    const v = this.map[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") this.fail(field, "must be a string");
    return v as string;
  }

  /** A boolean (absent means `fallback`). */
  boolean(field: string, fallback?: boolean): boolean {
    const v = this.map[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== "boolean") this.fail(field, "must be true or false");
    return v as boolean;
  }

  /** A whole number within bounds (absent means `fallback`). */
  integer(field: string, min: number, max: number, fallback?: number): number {
    const v = this.map[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(field, `must be a whole number from ${min} to ${max}`);
    }
    return v as number;
  }

  /** A list of strings (absent means empty). */
  strings(field: string, re?: RegExp): string[] {
    const v = this.map[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.fail(field, "must be a list of strings");
    }
    for (const s of v as string[]) {
      if (re && !re.test(s)) this.fail(field, `has an invalid entry ${JSON.stringify(s)}`);
    }
    return v as string[];
  }

  /** A list of mappings (absent means empty). */
  list(field: string): Fields[] {
    const v = this.map[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(field, "must be a list");
    return (v as unknown[]).map((x, i) => Fields.of(x, this.file, this.code, `"${field}"[${i}]`));
  }

  /** A nested mapping. */
  nested(field: string): Fields {
    return Fields.of(this.map[field], this.file, this.code, `"${field}"`);
  }
}

/** The first key that a mapping of `doc` holds twice, or null; linear in the document. */
function firstDuplicateKey(doc: ReturnType<typeof parseDocument>): string | null {
  let found: string | null = null;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : JSON.stringify(pair.key);
        if (seen.has(key)) {
          found = key;
          return visit.BREAK;
        }
        seen.add(key);
      }
    },
  });
  return found;
}

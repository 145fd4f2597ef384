/**
 * Masking of secret values: every known secret value — given directly, or the VALUE of each
 * `KEY=VALUE` line of a decrypted env file — becomes `***` in any string. The runbook engine
 * passes step output, run records and audit fields through one masker per run.
 *
 * @example
 * ```ts
 * import { SecretMasker } from "./masking.ts";
 * const masker = new SecretMasker().addEnv("DB_PASSWORD=hunter22\n");
 * masker.mask("connecting with hunter22"); // "connecting with ***"
 * ```
 * @module
 */

/** What a secret value is replaced with. */
export const MASK = "***";

/**
 * Values shorter than this are not masked: masking "1" or "on" would blank out every number
 * and word in the output while protecting nothing.
 */
export const MIN_SECRET_LENGTH = 4;

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/;

/**
 * The values of the `KEY=VALUE` lines of env-file text. Comments and blank lines are skipped;
 * `export ` prefixes are allowed; a value in matching single or double quotes yields the
 * quoted text (and, when it differs, the text with `\n`-style escapes of double quotes
 * expanded); an unquoted value loses a trailing ` # comment`.
 *
 * @example
 * ```ts
 * envValues('A=one\nexport B="two words"\n# C=no\n'); // ["one", "two words"]
 * ```
 */
export function envValues(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const match = ENV_LINE.exec(line);
    if (!match) continue;
    const raw = match[2];
    const quote = raw[0];
    if ((quote === '"' || quote === "'") && raw.length >= 2 && raw.endsWith(quote)) {
      const inner = raw.slice(1, -1);
      values.push(inner);
      if (quote === '"') {
        const expanded = inner.replace(
          /\\([nrt"\\$])/g,
          (_, c: string) => ({ n: "\n", r: "\r", t: "\t" } as Record<string, string>)[c] ?? c,
        );
        if (expanded !== inner) values.push(expanded);
      }
    } else {
      // The raw value too: a tool that does not strip comments uses all of it.
      values.push(raw);
      const uncommented = raw.replace(/\s+#.*$/, "");
      if (uncommented !== raw) values.push(uncommented);
    }
  }
  return values;
}

/**
 * Replaces every known secret value with {@link MASK}. Longer values are matched first, so a
 * secret that contains another is masked whole.
 *
 * @example
 * ```ts
 * const masker = new SecretMasker(["s3cr3t-token"]);
 * masker.mask("token=s3cr3t-token"); // "token=***"
 * ```
 */
export class SecretMasker {
  #values = new Set<string>();
  #pattern: RegExp | undefined;

  /**
   * A masker knowing `values` (values shorter than {@link MIN_SECRET_LENGTH} are ignored).
   *
   * @example
   * ```ts
   * import { readKeyHex } from "./key_file.ts";
   * const keyHex = await readKeyHex("/home/deploy/.protocol");
   * const masker = new SecretMasker([keyHex]);
   * ```
   */
  constructor(values: Iterable<string> = []) {
    this.add(...values);
  }

  /**
   * Learns secret values; returns the masker for chaining.
   *
   * @example
   * ```ts
   * import { SecretMasker } from "./masking.ts";
   * const masker = new SecretMasker();
   * masker.add("hunter22", "s3cr3t");
   * ```
   */
  add(...values: string[]): this {
    for (const value of values) {
      if (value.length >= MIN_SECRET_LENGTH && !this.#values.has(value)) {
        this.#values.add(value);
        this.#pattern = undefined;
      }
    }
    return this;
  }

  /**
   * Learns every value of decrypted env-file text (see {@link envValues}).
   *
   * @example
   * ```ts
   * import { SecretMasker } from "./masking.ts";
   * const masker = new SecretMasker();
   * masker.addEnv(await Deno.readTextFile("/opt/myapp/shared/.env"));
   * ```
   */
  addEnv(text: string): this {
    return this.add(...envValues(text));
  }

  /**
   * How many distinct values are masked.
   *
   * @example
   * ```ts
   * new SecretMasker(["abcd"]).size; // 1
   * ```
   */
  get size(): number {
    return this.#values.size;
  }

  /**
   * `text` with every known secret value replaced by {@link MASK}.
   *
   * @example
   * ```ts
   * import { SecretMasker } from "./masking.ts";
   * const masker = new SecretMasker();
   * const stepOutput = "DB_PASSWORD=hunter22";
   * masker.mask(stepOutput);
   * ```
   */
  mask(text: string): string {
    if (this.#values.size === 0 || text.length === 0) return text;
    this.#pattern ??= new RegExp(
      [...this.#values].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"),
      "g",
    );
    return text.replace(this.#pattern, MASK);
  }

  /**
   * A copy of a flat record (audit fields, a run record's step) with every string value masked;
   * other values are kept as they are.
   *
   * @example
   * ```ts
   * import { SecretMasker } from "./masking.ts";
   * const masker = new SecretMasker();
   * const stateDir = "/home/deploy/.protocol";
   * import { appendAudit } from "../audit/mod.ts";
   * const text = "connected with hunter22";
   * await appendAudit(stateDir, masker.maskFields({ action: "run", output: text }));
   * ```
   */
  maskFields<T extends Record<string, unknown>>(fields: T): T {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      out[key] = typeof value === "string" ? this.mask(value) : value;
    }
    return out as T;
  }
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

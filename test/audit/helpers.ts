/**
 * Shared test helpers: temp state dirs, spawning real `deno` processes, byte-level log editing.
 *
 * @example
 * ```ts
 * const dir = await freshStateDir();
 * await appendMany(dir, 5);
 * ```
 * @module
 */
import { cp } from "node:fs/promises";
import { fileURLToPath as fromFileUrl } from "node:url";
import { type KeySigner, signerFromPem } from "../../src/audit/keys.ts";
import { appendAudit, auditPaths, generateSigningKey } from "../../src/audit/mod.ts";

/** Absolute path of a fixture script. */
export const fixture = (name: string): string =>
  fromFileUrl(new URL(`./fixtures/${name}`, import.meta.url));

/** Repo config, so spawned scripts resolve the same import map. */
export const denoConfig = fromFileUrl(new URL("../../deno.json", import.meta.url));

/** A new temp dir containing a `state` dir with a signing key. */
export async function freshStateDir(withKey = true): Promise<string> {
  const dir = `${await Deno.makeTempDir({ prefix: "audit-test-" })}/state`;
  if (withKey) await generateSigningKey(dir);
  return dir;
}

/**
 * A state dir holding the format v1 log of fixtures/v1-log (two files, a key rotation, the
 * signing key in use when it stopped), with the modes the writer expects.
 */
export async function v1StateDir(): Promise<string> {
  const dir = `${await Deno.makeTempDir({ prefix: "audit-v1-" })}/state`;
  await cp(fixture("v1-log"), dir, { recursive: true });
  await Deno.remove(`${dir}/README.md`);
  await Deno.chmod(dir, 0o700);
  for (const f of ["audit-signing.key", "audit-keyring.json"]) {
    await Deno.chmod(`${dir}/${f}`, 0o600);
  }
  return dir;
}

/**
 * The signing key as an attacker holding every file of the host reads it: the current private
 * key (the only one left on disk).
 */
export async function currentKey(dir: string): Promise<KeySigner> {
  return signerFromPem(await Deno.readTextFile(auditPaths(dir).key));
}

/** The last complete line of the live log, as text. */
export async function lastLine(dir: string): Promise<string> {
  return (await Deno.readTextFile(auditPaths(dir).log)).trimEnd().split("\n").at(-1)!;
}

/** Appends `n` deploy-like entries. */
export async function appendMany(dir: string, n: number, start = 1): Promise<void> {
  for (let i = start; i < start + n; i++) {
    await appendAudit(dir, {
      action: "deploy",
      repo: "/opt/app",
      from: `v${i - 1}`,
      to: `v${i}`,
      env: "prod",
    });
  }
}

/**
 * `deno run -A --config <repo deno.json> <script> ...args` as a command, not yet started: the
 * one way tests spawn a real Deno process (fixtures, the CLI's main.ts).
 */
export function denoScript(
  script: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args"> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    ...options,
    args: ["run", "-A", "--config", denoConfig, script, ...args],
  });
}

/** Runs `deno run -A <script> ...args` and returns code/stdout/stderr. */
export async function runDeno(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await denoScript(script, args, { env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the audit CLI (fixture entry point) with args. */
export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runDeno(fixture("cli.ts"), args);
}

/** Splits log bytes into lines (each without its newline). */
export function lines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, start)) {
    out.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return out;
}

/** Joins lines back into log bytes, each followed by a newline. */
export function join(ls: Uint8Array[]): Uint8Array {
  const total = ls.reduce((n, l) => n + l.length + 1, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const l of ls) {
    out.set(l, off);
    out[off + l.length] = 10;
    off += l.length + 1;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so a failing tamper case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

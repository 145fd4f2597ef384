/**
 * What `deno task …` runs: the CLI from a bundle of the current sources, built when they change.
 *
 * Loading the CLI from `src/` means ~120 modules and four npm packages resolved, read and
 * compiled one by one before `run`'s first step; from a bundle (`deno bundle`, code split, so a
 * command still loads only its own chunks) `run` reaches its first step with ~20% less CPU and
 * ~30% less wall time (`bench/README.md`). A bundle must never run older code than the sources,
 * so its directory is named by a fingerprint of them — every file of `src/` (path, size,
 * modification time), `deno.json`, `deno.lock` and the Deno version — taken at each start (~5 ms
 * on a quiet machine): an edit, a checkout or a new lock file names another directory, which is
 * built first (~2 s, once, announced on stderr). A bundle is written to a temporary directory and
 * renamed into place, so a start never sees half of one. Should the build fail, the CLI runs from
 * `src/` with a warning.
 *
 * The bundle lives in `.bundle/<fingerprint>/`, two directories below the project as
 * `src/config/` is, so `config/root.ts` finds the project from it as it does from `src/`; the
 * audit's signature worker, a separate module, is loaded from `src/` (`sig_worker.ts` there is a
 * one-line stub). Bundles of other fingerprints are removed a day after they were built, so a
 * long run that started from one can still load its later chunks.
 *
 * This file imports nothing: it is what every command loads first.
 *
 * @example
 * ```sh
 * deno run -A src/cli/launch.ts run deploy v1.2.0   # what `deno task sop:deploy v1.2.0` runs
 * ```
 * @module
 */

const ROOT = new URL("../../", import.meta.url);
const BUNDLES = new URL(".bundle/", ROOT);
/** How long a bundle of other sources is kept, for runs still loading its chunks. */
const KEEP_OLD_MS = 24 * 3600_000;

/** Appends `path size mtime` of every file under `dir` to `lines`. */
function list(dir: string, lines: string[]): string[] {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) list(path, lines);
    else lines.push(`${path} ${stamp(path)}`);
  }
  return lines;
}

function stamp(path: string): string {
  const { size, mtime } = Deno.statSync(path);
  return `${size} ${mtime?.getTime()}`;
}

/**
 * The fingerprint of the sources a bundle is built from: a 64-bit hash (FNV-1a, hex) of the
 * listing of `src/`, `deno.json`, `deno.lock` and the Deno version. Not a defence against anyone:
 * it tells one state of the sources from another, and costs no crypto start-up.
 *
 * @example
 * ```ts
 * import { sourceFingerprint } from "./launch.ts";
 * sourceFingerprint().length; // 16
 * ```
 */
export function sourceFingerprint(root: string = ROOT.pathname): string {
  const text = [
    `deno ${Deno.version.deno}`,
    `deno.json ${stamp(`${root}deno.json`)}`,
    `deno.lock ${stamp(`${root}deno.lock`)}`,
    ...list(`${root}src`, []).map((line) => line.slice(root.length)).sort(),
  ].join("\n");
  // Two 32-bit FNV-1a lanes with different offsets: 64 bits, no BigInt.
  let a = 0x811c9dc5, b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}

/**
 * The `deno bundle` command line that builds the CLI into `outdir`.
 *
 * @example
 * ```ts
 * import { bundleArgv } from "./launch.ts";
 * bundleArgv("/srv/tool/", "/tmp/b").slice(0, 4); // ["bundle", "--quiet", "--platform", "deno"]
 * ```
 */
export function bundleArgv(root: string, outdir: string): string[] {
  return [
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--code-splitting",
    // A bug's stack trace names src/ files and lines: Deno maps it through the linked map,
    // which it reads only when an error is printed.
    "--sourcemap",
    "linked",
    "--config",
    `${root}deno.json`,
    "--outdir",
    outdir,
    `${root}src/cli/main.ts`,
  ];
}

const exists = (url: URL) => Deno.stat(url).then(() => true, () => false);

/** Builds the bundle for `fingerprint` unless it exists; returns its `main.js`, or why not. */
async function bundleFor(fingerprint: string): Promise<URL | string> {
  const dir = new URL(`${fingerprint}/`, BUNDLES);
  const main = new URL("main.js", dir);
  if (await exists(main)) return main;
  console.error("protocol: bundling the CLI for the current sources (once per change, ~2 s)…");
  await Deno.mkdir(BUNDLES, { recursive: true });
  const building = await Deno.makeTempDir({ dir: BUNDLES.pathname, prefix: ".building-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: bundleArgv(ROOT.pathname, building),
      stdin: "null",
    }).output();
    if (!output.success) return new TextDecoder().decode(output.stderr).trim();
    // The signature worker is started by URL beside its caller: it runs from the sources.
    const worker = new URL("src/audit/sig_worker.ts", ROOT).href;
    await Deno.writeTextFile(`${building}/sig_worker.ts`, `import ${JSON.stringify(worker)};\n`);
    // Another start may have built the same bundle meanwhile: its copy is as good as ours.
    await Deno.rename(building, dir.pathname).catch(async (error) => {
      if (!await exists(main)) throw error;
    });
    await removeOldBundles(fingerprint);
    return main;
  } finally {
    await Deno.remove(building, { recursive: true }).catch(() => {});
  }
}

/** Removes bundles of other fingerprints built more than a day ago. */
async function removeOldBundles(current: string): Promise<void> {
  for await (const entry of Deno.readDir(BUNDLES)) {
    if (entry.name === current || !entry.isDirectory) continue;
    const url = new URL(`${entry.name}/`, BUNDLES);
    const { mtime } = await Deno.stat(url);
    if (Date.now() - (mtime?.getTime() ?? 0) > KEEP_OLD_MS) {
      await Deno.remove(url, { recursive: true }).catch(() => {});
    }
  }
}

if (import.meta.main) {
  // Whatever stops the bundle (a read-only install, a full disk), the sources still run.
  const bundle = await bundleFor(sourceFingerprint()).catch((error) => String(error));
  if (typeof bundle === "string") {
    console.error(`protocol: bundling failed, running from src/ instead:\n${bundle}`);
  }
  const { main } = await import(
    typeof bundle === "string" ? "./main.ts" : bundle.href
  ) as typeof import("./main.ts");
  Deno.exit(await main(Deno.args));
}

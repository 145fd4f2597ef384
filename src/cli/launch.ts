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
 * `src/` with a warning; where nothing can be written (a read-only install), it runs from `src/`
 * and says so once for each state of the sources.
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
  return fnv64([
    `deno ${Deno.version.deno}`,
    `deno.json ${stamp(`${root}deno.json`)}`,
    `deno.lock ${stamp(`${root}deno.lock`)}`,
    ...list(`${root}src`, []).map((line) => line.slice(root.length)).sort(),
  ].join("\n"));
}

/** A 64-bit hash (hex) of `text`: two 32-bit FNV-1a lanes with different offsets, no BigInt. */
function fnv64(text: string): string {
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

const exists = (path: URL | string) => Deno.stat(path).then(() => true, () => false);

/** Why no bundle could be had: nowhere to write one, or the build failed. */
interface NoBundle {
  unwritable: boolean;
  why: string;
}

/** Builds the bundle for `fingerprint` unless it exists; returns its `main.js`, or why not. */
async function bundleFor(fingerprint: string): Promise<URL | NoBundle> {
  const dir = new URL(`${fingerprint}/`, BUNDLES);
  const main = new URL("main.js", dir);
  if (await exists(main)) return main;
  let building: string;
  try {
    await Deno.mkdir(BUNDLES, { recursive: true });
    building = await Deno.makeTempDir({ dir: BUNDLES.pathname, prefix: ".building-" });
  } catch (error) {
    return { unwritable: true, why: String(error) };
  }
  console.error("protocol: bundling the CLI for the current sources (once per change, ~2 s)…");
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: bundleArgv(ROOT.pathname, building),
      stdin: "null",
    }).output();
    if (!output.success) {
      return { unwritable: false, why: new TextDecoder().decode(output.stderr).trim() };
    }
    // The signature worker is started by URL beside its caller: it runs from the sources.
    const worker = new URL("src/audit/sig_worker.ts", ROOT).href;
    await Deno.writeTextFile(`${building}/sig_worker.ts`, `import ${JSON.stringify(worker)};\n`);
    await unlinkThirdPartyMaps(building);
    // Another start may have built the same bundle meanwhile: its copy is as good as ours.
    await Deno.rename(building, dir.pathname).catch(async (error) => {
      if (!await exists(main)) throw error;
    });
    await removeOldBundles(fingerprint);
    return main;
  } catch (error) {
    return { unwritable: false, why: String(error) };
  } finally {
    await Deno.remove(building, { recursive: true }).catch(() => {});
  }
}

/**
 * Removes the `sourceMappingURL` line of every chunk whose map holds npm code only (dax, zod,
 * yaml). Deno reads and parses a chunk's map whenever a stack is captured through it, and the
 * Node layer captures stacks as it loads: dax's 0.9 MB map was read at every start (~30 ms CPU
 * with zod's and yaml's), to name lines of bundled npm files no one debugs. A frame of the
 * tool's own code still names its `src/` file and line. The map files stay beside the chunks.
 */
async function unlinkThirdPartyMaps(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".js.map")) continue;
    const { sources = [] } = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    if (sources.length === 0 || !sources.every((s: string) => s.includes("node_modules/"))) {
      continue;
    }
    const chunk = `${dir}/${entry.name.slice(0, -".map".length)}`;
    const code = await Deno.readTextFile(chunk);
    await Deno.writeTextFile(chunk, code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
  }
}

/**
 * Says `message` on stderr unless it was said for this project and `fingerprint` already: a
 * read-only install runs from `src/` at every start, and a warning at every start would only be
 * noise. Remembered by an empty file in the user's cache directory (`$XDG_CACHE_HOME` or
 * `~/.cache`, `protocol/launch/`); where even that cannot be written, it is said each time.
 */
async function sayOnce(fingerprint: string, message: string): Promise<void> {
  const cache = Deno.env.get("XDG_CACHE_HOME") ||
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : undefined);
  const note = cache && `${cache}/protocol/launch/${fnv64(`${ROOT.pathname}\n${fingerprint}`)}`;
  if (note && await exists(note)) return; // a path, not a URL: `#` or `?` in it are plain
  console.error(message);
  if (!note) return;
  await Deno.mkdir(note.slice(0, note.lastIndexOf("/")), { recursive: true })
    .then(() => Deno.writeTextFile(note, ""))
    .catch(() => {});
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
  const fingerprint = sourceFingerprint();
  const bundle = await bundleFor(fingerprint);
  if (!(bundle instanceof URL)) {
    if (bundle.unwritable) {
      // A read-only install: the sources run, as fast as from a checkout without the launcher.
      await sayOnce(
        fingerprint,
        `protocol: cannot bundle the CLI here, running from src/ instead (${bundle.why}); ` +
          "said once for these sources",
      );
    } else console.error(`protocol: bundling failed, running from src/ instead:\n${bundle.why}`);
  }
  const { main } = await import(
    bundle instanceof URL ? bundle.href : "./main.ts"
  ) as typeof import("./main.ts");
  Deno.exit(await main(Deno.args));
}

/**
 * Runs before the test suite (`deno task test`) and in `.ci/run`: the Debian packages the tests
 * drive for real (listed in `test/system-packages.txt`, their one owner) must be installed.
 * Missing ones are installed with apt-get when running as root; otherwise the suite stops here,
 * before any test, with one line naming the packages and the command that installs them.
 * Tests never skip for a missing tool, so this is where a fresh machine learns what it lacks.
 *
 * @example
 * ```ts
 * import { installCommand, missingPackages, parsePackageList } from "./preflight.ts";
 * const wanted = parsePackageList("socat socat # proxy\n");
 * const missing = await missingPackages(wanted); // [] when socat is on PATH
 * installCommand(missing.map((p) => p.name), false); // "sudo apt-get update && ..."
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";

/** One required package and the program that shows it is installed. */
export interface SystemPackage {
  name: string;
  /** A program name looked up on PATH, or an absolute path that must exist (a module's file). */
  probe: string;
}

/** The package list's location. */
export const PACKAGE_LIST = fileURLToPath(new URL("./system-packages.txt", import.meta.url));

/** Parses `package probe # why` lines; blank lines and comments are ignored. */
export function parsePackageList(text: string): SystemPackage[] {
  return text.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean)
    .map((line, i) => {
      const [name, probe, extra] = line.split(/\s+/);
      if (!probe || extra !== undefined) {
        throw new Error(`system-packages.txt entry ${i + 1}: expected "package program"`);
      }
      return { name, probe };
    });
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Whether a package is installed: an absolute path that exists, or a program name on PATH. */
export async function hasProgram(
  probe: string,
  path = Deno.env.get("PATH") ?? "",
): Promise<boolean> {
  if (probe.startsWith("/")) return await Deno.stat(probe).then((s) => s.isFile, () => false);
  for (const dir of path.split(":").filter(Boolean)) {
    if (await isExecutable(`${dir}/${probe}`)) return true;
  }
  return false;
}

/** The packages whose program is not installed. */
export async function missingPackages(wanted: SystemPackage[]): Promise<SystemPackage[]> {
  const missing: SystemPackage[] = [];
  for (const pkg of wanted) if (!await hasProgram(pkg.probe)) missing.push(pkg);
  return missing;
}

/** The command a person runs to install `names` (with sudo unless already root). */
export function installCommand(names: string[], root: boolean): string {
  const sudo = root ? "" : "sudo ";
  return `${sudo}apt-get update && ${sudo}apt-get install -y ${names.join(" ")}`;
}

/** The one line printed when packages are missing and cannot be installed here. */
export function missingLine(names: string[], root: boolean): string {
  return `preflight: the tests need Debian packages that are not installed: ${names.join(" ")}; ` +
    `install them with: ${installCommand(names, root)}`;
}

/** How often a long install says it is still working (a fresh machine may take minutes). */
const HEARTBEAT_MS = 15_000;

async function aptInstall(names: string[]): Promise<boolean> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-q"], ["install", "-y", "-q", ...names]]) {
    const started = Date.now();
    let last = "";
    const child = new Deno.Command("apt-get", { args, env, stdout: "piped", stderr: "piped" })
      .spawn();
    // Chromium alone is minutes of downloads: say what apt-get is doing every so often
    // instead of staying silent, without flooding the terminal with every line.
    const heartbeat = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000);
      console.error(`preflight: apt-get ${args[0]} still running (${seconds} s): ${last}`);
    }, HEARTBEAT_MS);
    const lines = child.stdout.pipeThrough(new TextDecoderStream());
    const stderr = new Response(child.stderr).text();
    for await (const chunk of lines) {
      const line = chunk.trim().split("\n").at(-1)?.trim();
      if (line) last = line;
    }
    const status = await child.status;
    clearInterval(heartbeat);
    if (!status.success) {
      const why = (await stderr).trim().split("\n").at(-1) ?? "";
      console.error(`preflight: apt-get ${args[0]} failed${why ? `: ${why}` : ""}`);
      return false;
    }
  }
  return true;
}

/** Checks, installs as root, re-checks; exit code 0 when every package is there. */
export async function preflight(listText: string): Promise<number> {
  const wanted = parsePackageList(listText);
  let missing = await missingPackages(wanted);
  if (!missing.length) return 0;
  const root = Deno.uid() === 0;
  if (root && await hasProgram("apt-get")) {
    const names = missing.map((p) => p.name);
    console.error(`preflight: installing ${names.join(" ")} (apt-get, running as root)`);
    if (await aptInstall(names)) missing = await missingPackages(wanted);
  }
  if (!missing.length) return 0;
  console.error(missingLine(missing.map((p) => p.name), root));
  return 1;
}

if (import.meta.main) {
  // An argument names another list (the preflight's own test uses one).
  Deno.exit(await preflight(await Deno.readTextFile(Deno.args[0] ?? PACKAGE_LIST)));
}

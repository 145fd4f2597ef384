/**
 * Files on a target, written through the same connection the steps use: the bytes travel on
 * the script's standard input (never on a command line, where `ps` would show a secret), land
 * in a temp file beside the destination with the final mode already set, and are renamed into
 * place, so a reader sees the old file or the whole new one.
 *
 * @example
 * ```ts
 * import { putFile } from "./files.ts";
 * import { LocalTarget } from "./local.ts";
 * await putFile(new LocalTarget(), "/tmp/demo/.env", new TextEncoder().encode("A=1\n"), {
 *   mode: 0o600,
 *   dirMode: 0o700,
 * });
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";
import type { Target } from "./target.ts";

/** How a file is written. */
export interface PutFileOptions {
  /** The file's mode (default 0600: what this tool writes is usually secret). */
  mode?: number;
  /** When given, the parent directory is created if missing and set to this mode. */
  dirMode?: number;
  signal?: AbortSignal;
}

/** A path that starts with `~/` is relative to the target user's home directory. */
const HOME_PATH = 'case $DEST in "~/"*) DEST="$HOME/${DEST#??}" ;; esac';

/**
 * The script that writes standard input to `$DEST` atomically, and only when all `$SIZE` bytes
 * arrived. Values arrive as environment variables, so no path is ever parsed as shell syntax.
 *
 * @example
 * ```ts
 * import { putFileScript } from "./files.ts";
 * putFileScript({ mode: 0o600, dirMode: 0o700 }); // "umask 077\n..."
 * ```
 */
export function putFileScript(options: PutFileOptions = {}): string {
  const mode = (options.mode ?? 0o600).toString(8).padStart(4, "0");
  const lines = ["umask 077", "set -e", HOME_PATH, 'dir=$(dirname -- "$DEST")'];
  if (options.dirMode !== undefined) {
    const dirMode = options.dirMode.toString(8).padStart(4, "0");
    lines.push('mkdir -p -- "$dir"', `chmod ${dirMode} -- "$dir"`);
  }
  lines.push(
    'tmp="$dir/.$(basename -- "$DEST").protocol-tmp.$$"',
    `trap 'rm -f -- "$tmp"' EXIT`,
    // A stop (TERM, INT, HUP) becomes an exit, which removes the partial file: dash runs no
    // EXIT trap when a signal ends it, and half a secret would stay beside the file.
    "trap 'exit 143' TERM INT HUP",
    'cat > "$tmp"',
    // Input cut short (the connection dropped, the step was stopped) is never put in place.
    'got=$(wc -c < "$tmp")',
    '[ "$got" -eq "$SIZE" ] || { echo "received $got of $SIZE bytes" >&2; exit 1; }',
    `chmod ${mode} -- "$tmp"`,
    'mv -f -- "$tmp" "$DEST"',
    "trap - EXIT",
    'printf "%s\\n" "$DEST"',
  );
  return lines.join("\n");
}

/** The write failed on the target; says where and why. */
export class PutFileError extends FailureError {
  constructor(readonly target: string, readonly path: string, detail: string) {
    super(`${target}: cannot write ${path}: ${detail}`);
    this.name = "PutFileError";
  }
}

/**
 * Writes `bytes` to `path` on the target; returns the absolute path it wrote (`~/` expanded
 * on the target). Throws {@link PutFileError} when it cannot.
 *
 * @example
 * ```ts
 * import { putFile } from "./files.ts";
 * import { LocalTarget } from "./local.ts";
 * const written = await putFile(new LocalTarget(), "/tmp/x/key", new Uint8Array([1]));
 * ```
 */
export async function putFile(
  target: Target,
  path: string,
  bytes: Uint8Array,
  options: PutFileOptions = {},
): Promise<string> {
  const result = await target.exec({
    script: putFileScript(options),
    env: { DEST: path, SIZE: bytes.length },
    stdin: bytes,
    signal: options.signal,
    timeoutMs: 60_000,
  });
  if (result.code !== 0) {
    const why = result.stderr.trim().split("\n").at(-1) || `exit code ${result.code}`;
    throw new PutFileError(target.name, path, why);
  }
  return result.stdout.trim();
}

/**
 * The target user's home directory (`$HOME` there), for paths such as `~/.protocol`.
 *
 * @example
 * ```ts
 * import { homeOf } from "./files.ts";
 * import { LocalTarget } from "./local.ts";
 * console.log(await homeOf(new LocalTarget()));
 * ```
 */
export async function homeOf(target: Target, signal?: AbortSignal): Promise<string> {
  const result = await target.exec({ script: 'printf "%s" "$HOME"', signal, timeoutMs: 30_000 });
  const home = result.stdout.trim();
  if (result.code !== 0 || !home.startsWith("/")) {
    throw new Error(`${target.name}: cannot tell the home directory: ${result.stderr.trim()}`);
  }
  return home;
}

/** Where a node keeps its state (the encryption key) when its configuration does not say. */
export const NODE_STATE_DIR = "~/.protocol";

/**
 * The state directory on a target, as an absolute path there: the operator's own for the
 * local target, else the node's `state_dir` (default `~/.protocol`, in the SSH user's home).
 *
 * @example
 * ```ts
 * import { stateDirOn } from "./files.ts";
 * import { LocalTarget } from "./local.ts";
 * await stateDirOn(new LocalTarget(), undefined, "/home/me/.protocol"); // "/home/me/.protocol"
 * ```
 */
export async function stateDirOn(
  target: Target,
  nodeStateDir: string | undefined,
  localStateDir: string,
): Promise<string> {
  if (target.name === "local") return localStateDir;
  const dir = nodeStateDir ?? NODE_STATE_DIR;
  return dir.startsWith("~/") ? `${await homeOf(target)}/${dir.slice(2)}` : dir;
}

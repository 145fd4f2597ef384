/**
 * A git witness: checkpoints are commits on an append-only branch of a remote the deploy user
 * can push to but not rewrite (`receive.denyNonFastForwards`, `receive.denyDeletes`). Each
 * commit's tree holds one file, `checkpoint`, with the note text; the branch's whole history is
 * the witness's record, so deleting the file in a later commit removes nothing.
 *
 * Commands are built by pure functions (`gitArgs`) and run by `runProcess` (src/proc).
 *
 * @example
 * ```ts
 * import { GitWitness } from "./git.ts";
 * const w = new GitWitness({ url: "ssh://git@host/srv/w.git", branch: "audit-checkpoints" }, "/srv/state/witness-git");
 * const texts = await w.checkpoints();
 * ```
 * @module
 */
import { runProcess } from "../../proc/mod.ts";

/** Settings of a git witness. */
export interface GitWitnessSettings {
  url: string;
  branch: string;
  identity?: string;
  knownHosts?: string;
}

/** A witness failure worth reporting (and retrying). */
export class WitnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WitnessError";
  }
}

/**
 * The ssh command git should use: batch mode (never prompt), strict host keys, the configured
 * key and known_hosts.
 *
 * @example
 * ```ts
 * sshCommand({ identity: "/k", knownHosts: "/kh" });
 * // "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -i '/k' -o IdentitiesOnly=yes -o UserKnownHostsFile='/kh'"
 * ```
 */
export function sshCommand(s: { identity?: string; knownHosts?: string }): string {
  const q = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;
  const parts = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"];
  if (s.identity) parts.push("-i", q(s.identity), "-o", "IdentitiesOnly=yes");
  if (s.knownHosts) parts.push("-o", `UserKnownHostsFile=${q(s.knownHosts)}`);
  return parts.join(" ");
}

/** The local ref the witness branch is fetched into. */
export const LOCAL_REF = "refs/witness/checkpoints";

/**
 * The git argv of each witness operation (pure).
 *
 * @example
 * ```ts
 * gitArgs.fetch("/cache", "ssh://h/w.git", "audit-checkpoints");
 * ```
 */
export const gitArgs = {
  init: (dir: string) => ["init", "-q", "--bare", dir],
  fetch: (dir: string, url: string, branch: string) => [
    "-C",
    dir,
    "fetch",
    "-q",
    "--no-tags",
    url,
    `+refs/heads/${branch}:${LOCAL_REF}`,
  ],
  log: (dir: string) => ["-C", dir, "log", "--format=%H", LOCAL_REF, "--"],
  catFile: (dir: string) => ["-C", dir, "cat-file", "--batch"],
  hashObject: (dir: string) => ["-C", dir, "hash-object", "-w", "--stdin"],
  mktree: (dir: string) => ["-C", dir, "mktree"],
  commitTree: (dir: string, tree: string, parent: string | undefined, message: string) => [
    "-C",
    dir,
    "commit-tree",
    tree,
    ...(parent ? ["-p", parent] : []),
    "-m",
    message,
  ],
  push: (dir: string, url: string, commit: string, branch: string) => [
    "-C",
    dir,
    "push",
    "-q",
    url,
    `${commit}:refs/heads/${branch}`,
  ],
};

/** A git remote used as a witness; `cacheDir` is a local bare repository it fetches into. */
export class GitWitness {
  readonly name: string;
  // Branch head from the last fetch (undefined: no branch yet; null: not fetched).
  private head: string | undefined | null = null;
  constructor(private readonly s: GitWitnessSettings, private readonly cacheDir: string) {
    this.name = `git ${s.url} (${s.branch})`;
  }

  /** Every checkpoint on the branch, oldest first. */
  async checkpoints(): Promise<string[]> {
    const head = await this.fetch();
    if (!head) return [];
    const commits = (await this.git(gitArgs.log(this.cacheDir))).trim().split("\n").reverse();
    const out = await this.git(
      gitArgs.catFile(this.cacheDir),
      commits.map((c) => `${c}:checkpoint\n`).join(""),
    );
    return parseCatFileBatch(out);
  }

  /** Appends one commit with `text` to the branch; retries when another push got there first. */
  async publish(text: string, summary: string): Promise<void> {
    for (let attempt = 1;; attempt++) {
      // The head read by `checkpoints()` just before is reused once; a rejected push refetches.
      const parent = attempt === 1 && this.head !== null ? this.head : await this.fetch();
      const blob = (await this.git(gitArgs.hashObject(this.cacheDir), text)).trim();
      const tree =
        (await this.git(gitArgs.mktree(this.cacheDir), `100644 blob ${blob}\tcheckpoint\n`))
          .trim();
      const commit = (await this.git(gitArgs.commitTree(this.cacheDir, tree, parent, summary)))
        .trim();
      const r = await this.run(gitArgs.push(this.cacheDir, this.s.url, commit, this.s.branch));
      if (r.code === 0) return;
      if (attempt >= 3 || !/non-fast-forward|fetch first|rejected/.test(r.stderr)) {
        throw new WitnessError(`git push to ${this.s.url} failed: ${r.stderr.trim()}`);
      }
    }
  }

  // Fetches the branch; returns its head commit, or undefined when the branch does not exist yet.
  private async fetch(): Promise<string | undefined> {
    this.head = null;
    await this.ensureCache();
    const r = await this.run(gitArgs.fetch(this.cacheDir, this.s.url, this.s.branch));
    if (r.code !== 0) {
      if (/couldn't find remote ref/i.test(r.stderr)) return this.head = undefined;
      throw new WitnessError(`git fetch from ${this.s.url} failed: ${r.stderr.trim()}`);
    }
    return this.head = (await this.git(["-C", this.cacheDir, "rev-parse", LOCAL_REF])).trim();
  }

  private async ensureCache(): Promise<void> {
    const exists = await Deno.stat(`${this.cacheDir}/HEAD`).then(() => true, () => false);
    if (!exists) await this.git(gitArgs.init(this.cacheDir));
  }

  private async git(args: string[], stdin?: string): Promise<string> {
    const r = await this.run(args, stdin);
    if (r.code !== 0) {
      throw new WitnessError(`git ${args[2] ?? args[0]} failed: ${r.stderr.trim()}`);
    }
    return r.stdout;
  }

  private run(args: string[], stdin?: string) {
    return runProcess(["git", ...args], {
      stdin,
      env: {
        GIT_SSH_COMMAND: sshCommand(this.s),
        GIT_TERMINAL_PROMPT: "0",
        GIT_AUTHOR_NAME: "protocol-audit",
        GIT_AUTHOR_EMAIL: "protocol-audit@localhost",
        GIT_COMMITTER_NAME: "protocol-audit",
        GIT_COMMITTER_EMAIL: "protocol-audit@localhost",
      },
    });
  }
}

/**
 * Splits `git cat-file --batch` output into blob contents (missing objects are skipped: a
 * commit without a `checkpoint` file holds no checkpoint).
 *
 * @example
 * ```ts
 * parseCatFileBatch("abc blob 3\nxyz\n"); // ["xyz"]
 * ```
 */
export function parseCatFileBatch(out: string): string[] {
  const bytes = new TextEncoder().encode(out);
  const dec = new TextDecoder();
  const texts: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const nl = bytes.indexOf(10, at);
    if (nl === -1) break;
    const header = dec.decode(bytes.subarray(at, nl));
    at = nl + 1;
    const m = /^\S+ blob (\d+)$/.exec(header);
    if (!m) continue; // "<name> missing"
    const size = Number(m[1]);
    texts.push(dec.decode(bytes.subarray(at, at + size)));
    at += size + 1;
  }
  return texts;
}

/**
 * What the end of a run verifies before it signs a checkpoint, bounded by what was sealed before.
 *
 * A checkpoint is only ever signed over a log that verified (`checkpoint.ts`). So when the log's
 * first N entries still hash to the root of a checkpoint of size N — recomputed here from their
 * bytes — they are the very entries that verified when it was signed, and only the entries after
 * it need checking one by one (parse, seq, prev, the signature of the key the chain says is
 * current). Before it, only the `key.rotated` entries are checked: their signatures carry the
 * chain of keys from the trust root to the key that signed the checkpoint, so a checkpoint
 * signed by any other key is no anchor. Anything else — no checkpoint the log still matches, a
 * torn line, a witness's checkpoint the log no longer contains, a bad entry after the anchor —
 * gives undefined, and the caller verifies the whole history, which names what is wrong.
 *
 * The seal's cost then grows with the entries since the last seal (plus one hash per entry),
 * not with every signature ever written. `audit verify` still checks every signature.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./checkpoint_core.ts";
 * import type { HistoryLines } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * import { verifySinceCheckpoint } from "./seal_verify.ts";
 * declare const lines: HistoryLines;
 * declare const root: TrustRoot;
 * declare const anchors: Checkpoint[];
 * const r = verifySinceCheckpoint(lines, root, anchors, []);
 * if (r) console.log(`verified ${r.entries - r.since} entries after the checkpoint of ${r.since}`);
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { type Checkpoint, checkpointSigner, parseCheckpoint } from "./checkpoint_core.ts";
import { type ParsedLine, parseEntryLine, sha256Hex } from "./entry.ts";
import { keyObjectCache, kidOf } from "./keys.ts";
import { loadHistory } from "./history.ts";
import { checkV1Signature } from "./legacy_v1.ts";
import { type HistoryLines, historyLines, lineBytes } from "./lines.ts";
import { ROTATION_MARK } from "./line_scan.ts";
import { type Hash, leafHash, rootsAtSizes, TreeEdge } from "./merkle.ts";
import { auditPaths } from "./paths.ts";
import type { TrustRoot } from "./verdict.ts";
import { trustRoot } from "./verify.ts";
import { checkLineSignature, verifyFrom } from "./verify_core.ts";

/** A history verified from a checkpoint on. */
export interface SealVerdict {
  /** Entries in the history. */
  entries: number;
  /** The Merkle leaf hash of every entry, in order (for consistency proofs). */
  leaves: Hash[];
  /** The tree of those leaves, to carry on with the entries appended next. */
  tree: TreeEdge;
  /** The live log (the last history file) and how many of its bytes were verified. */
  end: { file: string; bytes: number };
  /** SHA-256 (hex) of the last entry verified: what the next entry's `prev` must be. */
  lastHash: string;
  /** Size of the checkpoint the entries after it were verified from. */
  since: number;
}

/**
 * Verifies the history from the largest checkpoint among `anchors` and `held` that it still
 * matches, or gives undefined (verify the whole history instead). Every checkpoint in `held`
 * (those the witnesses hold) must match too.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./checkpoint_core.ts";
 * import type { HistoryLines } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const lines: HistoryLines;
 * declare const root: TrustRoot;
 * declare const local: Checkpoint;
 * declare const fromWitness: Checkpoint[];
 * verifySinceCheckpoint(lines, root, [local], fromWitness)?.since;
 * ```
 */
export function verifySinceCheckpoint(
  lines: HistoryLines,
  root: TrustRoot,
  anchors: Checkpoint[],
  held: Checkpoint[],
): SealVerdict | undefined {
  const count = lines.count;
  if (count === 0 || lines.torn.size > 0) return undefined;
  // A witness's checkpoint past the end: the log was cut (the full verification says so).
  if (held.some((cp) => cp.size > count)) return undefined;
  const keyObject = keyObjectCache();
  // The first entry must be the trust root's: a keyring swapped for one that starts with another
  // key would otherwise go unnoticed (the chain from it is followed only through rotations).
  if (!signedBy(lineBytes(lines, 0), root.kid, keyObject(root.kid, root.publicKeyRaw))) {
    return undefined;
  }
  const chain = keyChain(lines, root, keyObject);
  // Every FULL_EVERY-th seal (counted by the log's own key rotations, one a seal) checks every
  // signature: a checkpoint the current key's holder signed over a rewritten history anchors the
  // seals after it only until then.
  if ((chain.rotations.length + 1) % FULL_EVERY === 0) return undefined;
  const leaves = Array.from({ length: count }, (_, i) => leafHash(lineBytes(lines, i)));
  const all = [...held, ...anchors].filter((cp) => cp.size <= count);
  const tree = new TreeEdge();
  const roots = rootsAtSizes(leaves, all.map((cp) => cp.size), tree);
  const matches = (cp: Checkpoint) => {
    const root = roots.get(cp.size);
    return root !== undefined && Buffer.compare(root, cp.root) === 0 &&
      checkpointSigner(cp, chain.known, keyObject)?.valid === true;
  };
  if (!held.every(matches)) return undefined;
  const anchor = all.filter((cp) => cp.size > 0 && matches(cp)).sort((a, b) => b.size - a.size)[0];
  if (!anchor) return undefined;
  const from = anchor.size;
  // The entries after the anchor are judged as v2 entries (verify_core: a v1 entry after the
  // first v2 one is refused); an anchor inside a v1 prefix leaves that to the full verification.
  const last = parseEntryLine(lineBytes(lines, from - 1));
  if (!last.ok || last.v1Form) return undefined;
  // The keys the chain introduced before the anchor, and the one that signs the entry after it.
  const before = chain.rotations.filter((r) => r.index < from);
  const known = new Map([[root.kid, root.publicKeyRaw]]);
  for (const r of before) known.set(r.kid, r.raw);
  const current = before.at(-1)?.kid ?? root.kid;
  const expPrev = sha256Hex(lineBytes(lines, from - 1));
  const tail = verifyFrom(lines, root, { from, current, expPrev }, known);
  if (!tail.ok) return undefined;
  const live = lines.files[lines.files.length - 1];
  return {
    entries: count,
    leaves,
    tree,
    since: from,
    end: { file: live.name, bytes: live.bytes.length },
    lastHash: sha256Hex(lineBytes(lines, count - 1)),
  };
}

/** A `key.rotated` entry whose signature the chain carried: its index and the key it introduced. */
interface Rotation {
  index: number;
  kid: string;
  raw: Uint8Array;
}

// Follows the key chain from the trust root through every `key.rotated` entry (found by
// `ROTATION_MARK`), each signed by the key current before it, in place (its seq is its position)
// and announcing a key that matches its kid. Stops at the first that does not: the keys after it
// are unknown, so a line that hides its rotation or fakes one leaves no later key to anchor.
function keyChain(
  lines: HistoryLines,
  root: TrustRoot,
  keyObject: (kid: string, raw: Uint8Array) => KeyObject,
): { rotations: Rotation[]; known: Map<string, Uint8Array> } {
  const known = new Map([[root.kid, root.publicKeyRaw]]);
  const rotations: Rotation[] = [];
  const bytes = Buffer.from(lines.bytes.buffer, lines.bytes.byteOffset, lines.bytes.length);
  let current = root.kid;
  let line = 0;
  for (
    let at = bytes.indexOf(ROTATION_MARK);
    at !== -1;
    at = bytes.indexOf(ROTATION_MARK, at + 1)
  ) {
    while (line < lines.count && lines.bounds[2 * line + 1] < at) line++;
    if (line === lines.count) break;
    const p = parseEntryLine(lineBytes(lines, line));
    if (!p.ok || p.entry.action !== "key.rotated") break;
    const e = p.entry;
    const raw = Buffer.from(String(e.new_public_key ?? ""), "base64");
    const signedByCurrent = e.seq === line + 1 &&
      signedBy(lineBytes(lines, line), current, keyObject(current, known.get(current)!), p);
    if (!signedByCurrent || raw.length !== 32 || kidOf(raw) !== e.new_kid) break;
    current = e.new_kid as string;
    known.set(current, new Uint8Array(raw));
    rotations.push({ index: line, kid: current, raw: new Uint8Array(raw) });
  }
  return { rotations, known };
}

/** Every how many seals the seal verifies the whole history anyway (README: audit). */
export const FULL_EVERY = 50;

// Whether a line is an entry of `kid` whose signature verifies: the v2 signing input, or the v1
// one (a log upgraded from v1 keeps its v1 rotations; their signatures are as unforgeable).
function signedBy(bytes: Uint8Array, kid: string, key: KeyObject, parsed?: ParsedLine): boolean {
  const p = parsed ?? parseEntryLine(bytes);
  if (!p.ok || p.entry.kid !== kid) return false;
  return (!p.v1Form && checkLineSignature(bytes, key)) || checkV1Signature(p.entry, key);
}

/**
 * The I/O around {@link verifySinceCheckpoint}: the history, the trust root, and the anchors —
 * the newest checkpoints this state dir keeps (`checkpoints/`) and those the witnesses hold.
 * Call it under the audit lock.
 *
 * @example
 * ```ts
 * const r = await verifySinceLastSeal("/srv/state", []);
 * if (!r) console.log("no checkpoint to start from: verify the whole history");
 * ```
 */
export async function verifySinceLastSeal(
  stateDir: string,
  held: Checkpoint[],
): Promise<SealVerdict | undefined> {
  const anchors = await newestLocalCheckpoints(stateDir, 3);
  if (anchors.length === 0 && held.length === 0) return undefined;
  const lines = historyLines(await loadHistory(stateDir));
  return verifySinceCheckpoint(lines, await trustRoot(stateDir), anchors, held);
}

// The names `writeCheckpoint` gives its copies: the time, with `:` and `.` as `-`.
const COPY_NAME = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.txt$/;

// The newest few checkpoint copies (their names are timestamps); one that cannot be read or
// parsed is no anchor.
async function newestLocalCheckpoints(stateDir: string, n: number): Promise<Checkpoint[]> {
  const dir = auditPaths(stateDir).checkpoints;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && COPY_NAME.test(e.name)) names.push(e.name);
    }
  } catch {
    return [];
  }
  const out: Checkpoint[] = [];
  // Newest first, past any that cannot be read or parsed (at most 3n tried).
  for (const name of names.sort().reverse().slice(0, 3 * n)) {
    if (out.length === n) break;
    try {
      out.push(parseCheckpoint(await Deno.readTextFile(join(dir, name)), join(dir, name)));
    } catch {
      // Not a checkpoint we can use.
    }
  }
  return out;
}

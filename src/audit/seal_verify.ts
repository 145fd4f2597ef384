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
import { parseEntryLine, sha256Hex } from "./entry.ts";
import { kidOf, publicKeyFromRaw } from "./keys.ts";
import { loadHistory } from "./history.ts";
import { type HistoryLines, historyLines, lineBytes } from "./lines.ts";
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
  const chain = keyChain(lines, root);
  const keyObject = cachedKeyObjects();
  const leaves = Array.from({ length: count }, (_, i) => leafHash(lineBytes(lines, i)));
  // A witness's checkpoint past the end: the log was cut (the full verification says so).
  if (held.some((cp) => cp.size > count)) return undefined;
  const all = [...held, ...anchors].filter((cp) => cp.size <= count);
  const tree = new TreeEdge();
  const roots = rootsAtSizes(leaves, all.map((cp) => cp.size), tree);
  const matches = (cp: Checkpoint) => {
    const root = roots.get(cp.size);
    return cp.size > 0 && root !== undefined && Buffer.compare(root, cp.root) === 0 &&
      checkpointSigner(cp, chain.known, keyObject)?.valid === true;
  };
  if (!held.every(matches)) return undefined;
  const anchor = all.filter(matches).sort((a, b) => b.size - a.size)[0];
  if (!anchor) return undefined;
  const from = anchor.size;
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
  };
}

/** A `key.rotated` entry whose signature the chain carried: its index and the key it introduced. */
interface Rotation {
  index: number;
  kid: string;
  raw: Uint8Array;
}

// `"action":"key.rotated"` appears unescaped only as an entry's own action: inside a string
// value the quotes would be escaped. A line that hides its rotation or fakes one breaks the
// chain below, and then no checkpoint signed by a later key can anchor.
const ROTATION_MARK = Buffer.from(`"action":"key.rotated"`);

// Follows the key chain from the trust root through every `key.rotated` entry, each signed by
// the key current before it, in place (its seq is its position) and announcing a key that matches
// its kid. Stops at the first that does not: the keys after it are unknown.
function keyChain(
  lines: HistoryLines,
  root: TrustRoot,
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
    if (!p.ok || p.v1Form || p.entry.action !== "key.rotated") break;
    const e = p.entry;
    const raw = Buffer.from(String(e.new_public_key ?? ""), "base64");
    const signedByCurrent = e.kid === current && e.seq === line + 1 &&
      checkLineSignature(lineBytes(lines, line), publicKeyFromRaw(known.get(current)!));
    if (!signedByCurrent || raw.length !== 32 || kidOf(raw) !== e.new_kid) break;
    current = e.new_kid as string;
    known.set(current, new Uint8Array(raw));
    rotations.push({ index: line, kid: current, raw: new Uint8Array(raw) });
  }
  return { rotations, known };
}

function cachedKeyObjects(): (kid: string, raw: Uint8Array) => KeyObject {
  const cache = new Map<string, KeyObject>();
  return (kid, raw) => {
    let k = cache.get(kid);
    if (!k) cache.set(kid, k = publicKeyFromRaw(raw));
    return k;
  };
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

// The newest few checkpoint copies (their names are timestamps); one that cannot be read or
// parsed is no anchor.
async function newestLocalCheckpoints(stateDir: string, n: number): Promise<Checkpoint[]> {
  const dir = auditPaths(stateDir).checkpoints;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".txt")) names.push(e.name);
    }
  } catch {
    return [];
  }
  const out: Checkpoint[] = [];
  for (const name of names.sort().reverse().slice(0, n)) {
    try {
      out.push(parseCheckpoint(await Deno.readTextFile(join(dir, name)), join(dir, name)));
    } catch {
      // Not a checkpoint we can use: the whole history is verified instead.
    }
  }
  return out;
}

/**
 * RFC 6962 / RFC 9162 Merkle trees over the log's lines: the root a checkpoint commits to, and
 * consistency proofs, so a witness can check that a new checkpoint extends the one it holds
 * without ever seeing the log. Leaves are the exact line bytes (without the newline).
 *
 * @example
 * ```ts
 * import { consistencyProof, leafHash, treeRoot, verifyConsistency } from "./merkle.ts";
 * const leaves = ["a", "b", "c"].map((s) => leafHash(new TextEncoder().encode(s)));
 * const proof = consistencyProof(leaves, 2, 3);
 * verifyConsistency(2, 3, treeRoot(leaves, 2), treeRoot(leaves, 3), proof); // true
 * ```
 * @module
 */
import { createHash } from "node:crypto";

/** A 32-byte SHA-256 hash. */
export type Hash = Uint8Array;

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/**
 * The leaf hash of one line: SHA-256(0x00 || line).
 *
 * @example
 * ```ts
 * leafHash(new TextEncoder().encode('{"seq":1}')).length; // 32
 * ```
 */
export function leafHash(line: Uint8Array): Hash {
  return createHash("sha256").update(LEAF).update(line).digest();
}

/**
 * An interior node: SHA-256(0x01 || left || right).
 *
 * @example
 * ```ts
 * declare const leftHash: Hash;
 * declare const rightHash: Hash;
 * nodeHash(leftHash, rightHash);
 * ```
 */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash("sha256").update(NODE).update(left).update(right).digest();
}

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Hash = createHash("sha256").digest();

/**
 * MTH(D[start:end]) over precomputed leaf hashes.
 *
 * @example
 * ```ts
 * declare const leaves: Hash[];
 * subtreeRoot(leaves, 0, leaves.length);
 * ```
 */
export function subtreeRoot(leaves: Hash[], start: number, end: number): Hash {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[start];
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/**
 * The root of the tree of the first `size` leaves.
 *
 * @example
 * ```ts
 * declare const leaves: Hash[];
 * treeRoot(leaves, leaves.length);
 * ```
 */
export function treeRoot(leaves: Hash[], size: number): Hash {
  return subtreeRoot(leaves, 0, size);
}

/**
 * A tree built leaf by leaf, keeping only its right edge: the roots of its perfect subtrees,
 * largest first (at most one per bit of its size). Its root at any size costs one hash per
 * subtree, so a tree carried from one size to the next is never hashed again from its leaves.
 *
 * @example
 * ```ts
 * declare const leaves: Hash[];
 * const tree = new TreeEdge();
 * for (const leaf of leaves) tree.push(leaf);
 * tree.root(); // treeRoot(leaves, leaves.length)
 * ```
 */
export class TreeEdge {
  #stack: { height: number; hash: Hash }[] = [];
  #size = 0;

  /** How many leaves the tree has. */
  get size(): number {
    return this.#size;
  }

  /** Adds the next leaf. */
  push(leaf: Hash): void {
    let node = { height: 0, hash: leaf };
    const stack = this.#stack;
    while (stack.length && stack[stack.length - 1].height === node.height) {
      const left = stack.pop()!;
      node = { height: node.height + 1, hash: nodeHash(left.hash, node.hash) };
    }
    stack.push(node);
    this.#size++;
  }

  /** The root of the tree as it is now (the empty tree's root at size 0). */
  root(): Hash {
    const stack = this.#stack;
    if (stack.length === 0) return EMPTY_ROOT;
    let root = stack[stack.length - 1].hash;
    for (let i = stack.length - 2; i >= 0; i--) root = nodeHash(stack[i].hash, root);
    return root;
  }
}

/**
 * Roots at several sizes in one pass over the leaves: what verify needs for every checkpoint a
 * witness holds. `edge`, when given, is the tree of the leaves passed (to carry on from).
 *
 * @example
 * ```ts
 * declare const leaves: Hash[];
 * rootsAtSizes(leaves, [3, 10]); // Map { 3 => root3, 10 => root10 }
 * ```
 */
export function rootsAtSizes(
  leaves: Iterable<Hash>,
  sizes: number[],
  edge = new TreeEdge(),
): Map<number, Hash> {
  const want = new Set(sizes);
  const out = new Map<number, Hash>();
  if (want.has(0)) out.set(0, EMPTY_ROOT);
  for (const leaf of leaves) {
    edge.push(leaf);
    if (want.has(edge.size)) out.set(edge.size, edge.root());
  }
  return out;
}

/**
 * The RFC 6962 §2.1.2 consistency proof from the tree of size `m` to the tree of size `n`.
 *
 * @example
 * ```ts
 * declare const leaves: Hash[];
 * consistencyProof(leaves, 4, 7); // Hash[]
 * ```
 */
export function consistencyProof(leaves: Hash[], m: number, n: number): Hash[] {
  if (m < 0 || m > n || n > leaves.length) throw new RangeError(`no proof from ${m} to ${n}`);
  if (m === 0 || m === n) return [];
  return subproof(leaves, m, 0, n, true);
}

function subproof(leaves: Hash[], m: number, start: number, end: number, whole: boolean): Hash[] {
  const n = end - start;
  if (m === n) return whole ? [] : [subtreeRoot(leaves, start, end)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) {
    return [...subproof(leaves, m, start, start + k, whole), subtreeRoot(leaves, start + k, end)];
  }
  return [...subproof(leaves, m - k, start + k, end, false), subtreeRoot(leaves, start, start + k)];
}

/**
 * Verifies a consistency proof (RFC 9162 §2.1.4.2): the tree of size `m` with root `oldRoot` is
 * a prefix of the tree of size `n` with root `newRoot`.
 *
 * @example
 * ```ts
 * declare const root4: Hash;
 * declare const root7: Hash;
 * declare const proof: Hash[];
 * verifyConsistency(4, 7, root4, root7, proof); // true | false
 * ```
 */
export function verifyConsistency(
  m: number,
  n: number,
  oldRoot: Hash,
  newRoot: Hash,
  proof: Hash[],
): boolean {
  if (m > n) return false;
  if (m === n) return proof.length === 0 && equal(oldRoot, newRoot);
  if (m === 0) return proof.length === 0;
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (fn & 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if ((fn & 1) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// The seal at the end of a command verifies from the newest checkpoint the log still matches:
// the entries after it one by one, the ones before it by their root. These cases prove it still
// refuses every log the full verification refuses, including one with a forged anchor.
import assert from "node:assert/strict";
import { buildEntry, sha256Hex } from "../../src/audit/entry.ts";
import { makeCheckpoint, parseCheckpoint } from "../../src/audit/checkpoint_core.ts";
import { loadHistory } from "../../src/audit/history.ts";
import { keyForSeq, newKeyPair, signerFromPem } from "../../src/audit/keys.ts";
import { historyLines } from "../../src/audit/lines.ts";
import { EMPTY_ROOT, leafHash, treeRoot } from "../../src/audit/merkle.ts";
import { FULL_EVERY, verifySinceCheckpoint } from "../../src/audit/seal_verify.ts";
import { readKeyring } from "../../src/audit/signing.ts";
import {
  auditPaths,
  AuditRefusedError,
  checkpointOrigin,
  verifyAuditLog,
  writeCheckpoint,
} from "../../src/audit/mod.ts";
import { appendMany, currentKey, freshStateDir, join, lines, v1StateDir } from "./helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

// A state dir sealed once after `n` entries, then `more` entries appended.
async function sealedLog(n: number, more: number): Promise<string> {
  const dir = await freshStateDir();
  await appendMany(dir, n);
  await writeCheckpoint(dir, { rotate: true });
  await appendMany(dir, more, n + 1);
  return dir;
}

// Replaces line `i` (0-based) of the live log with `text`.
async function rewriteLine(dir: string, i: number, edit: (line: string) => string): Promise<void> {
  const ls = lines(await Deno.readFile(auditPaths(dir).log));
  ls[i] = enc.encode(edit(dec.decode(ls[i])));
  await Deno.writeFile(auditPaths(dir).log, join(ls));
}

// The checkpoint copy the seal reads first (the newest name), as an attacker would plant it.
async function plantCheckpoint(dir: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${auditPaths(dir).checkpoints}/9999-12-31T23-59-59-999Z.txt`, text);
}

function rootOf(bytes: Uint8Array, size: number): Uint8Array {
  return treeRoot(lines(bytes).map(leafHash), size);
}

Deno.test("a seal after a seal checks only the entries since, and its checkpoint is the same", async () => {
  const dir = await sealedLog(40, 7);
  const first = await writeCheckpoint(dir, { rotate: true });
  assert.equal(first.since, 41, "40 entries and the first seal's key.rotated");
  assert.equal(first.size, 41 + 7 + 1);
  // The checkpoint signed from the anchor is the one a whole-history seal computes.
  const bytes = await Deno.readFile(auditPaths(dir).log);
  assert.match(
    first.text,
    new RegExp(
      btoa(String.fromCharCode(...rootOf(bytes, first.size)))
        .replace(/[+/]/g, (c) => `\\${c}`),
    ),
  );
  const r = await verifyAuditLog(dir, { checkpointFiles: [first.path] });
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.checkpoints.length, 1);
  // With nothing appended since, the next seal starts from that very checkpoint.
  const again = await writeCheckpoint(dir);
  assert.equal(again.since, first.size);
});

Deno.test("an entry edited before the last checkpoint is refused, as by the full verification", async () => {
  const dir = await sealedLog(30, 5);
  await rewriteLine(dir, 9, (l) => l.replace('"to":"v10"', '"to":"v99"'));
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) => err instanceof AuditRefusedError && /line 10 of .*: edited/.test(err.message),
  );
});

Deno.test("an entry edited after the last checkpoint is refused", async () => {
  const dir = await sealedLog(30, 5);
  await rewriteLine(dir, 33, (l) => l.replace('"to":"v33"', '"to":"v99"'));
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) => err instanceof AuditRefusedError && /line 34 of .*: edited/.test(err.message),
  );
});

Deno.test("a rewritten history under a checkpoint signed by a key of no chain is no anchor", async () => {
  const dir = await sealedLog(30, 5);
  await rewriteLine(dir, 4, (l) => l.replace('"to":"v5"', '"to":"v55"'));
  const forger = signerFromPem(newKeyPair().privatePem);
  const bytes = await Deno.readFile(auditPaths(dir).log);
  await plantCheckpoint(dir, makeCheckpoint(checkpointOrigin({}), 35, rootOf(bytes, 35), forger));
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) => err instanceof AuditRefusedError && /line 5 of .*: edited/.test(err.message),
  );
});

Deno.test("a key.rotated entry forged in the history breaks the chain to a forged anchor", async () => {
  // The attacker announces their own key in place of entry 3 (re-signed by nobody the chain
  // knows), then signs a checkpoint over the result with that key.
  const dir = await sealedLog(30, 5);
  const forger = signerFromPem(newKeyPair().privatePem);
  const ls = lines(await Deno.readFile(auditPaths(dir).log));
  const at = JSON.parse(dec.decode(ls[2]));
  const forged = buildEntry(
    {
      action: "key.rotated",
      new_kid: forger.kid,
      new_public_key: btoa(String.fromCharCode(...forger.publicKeyRaw)),
      reason: "forged",
    },
    { seq: 3, prev: at.prev, ts: at.ts, host: at.host, user: at.user },
    forger,
  );
  ls[2] = enc.encode(forged.line);
  await Deno.writeFile(auditPaths(dir).log, join(ls));
  await plantCheckpoint(
    dir,
    makeCheckpoint(checkpointOrigin({}), ls.length, rootOf(join(ls), ls.length), forger),
  );
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) => err instanceof AuditRefusedError && /line 3 of /.test(err.message),
  );
});

Deno.test("a checkpoint the current key signs over the untouched log anchors; the edit after it is still caught", async () => {
  // The current key is on the host: a checkpoint it signs is a valid anchor (README: the seal
  // then starts there). Entries after it are still verified one by one.
  const dir = await sealedLog(20, 6);
  const key = await currentKey(dir);
  const bytes = await Deno.readFile(auditPaths(dir).log);
  const size = lines(bytes).length;
  await plantCheckpoint(
    dir,
    makeCheckpoint(checkpointOrigin({}), size - 2, rootOf(bytes, size - 2), key),
  );
  await rewriteLine(dir, size - 1, (l) => l.replace('"env":"prod"', '"env":"dev"'));
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) =>
      err instanceof AuditRefusedError && new RegExp(`line ${size} of `).test(err.message),
  );
});

Deno.test("the seal's anchor keeps the chain: the hash of the entry before the first one checked", async () => {
  // The one entry after the anchor (the first seal, 21 entries) is replaced by an entry signed
  // with the right key that chains to another predecessor: only its prev can give it away.
  const dir = await sealedLog(20, 1);
  const key = await currentKey(dir);
  const ls = lines(await Deno.readFile(auditPaths(dir).log));
  assert.equal(ls.length, 22);
  const e = JSON.parse(dec.decode(ls[21]));
  const wrong = buildEntry(
    { action: "deploy", repo: "/opt/app", to: "v666" },
    { seq: e.seq, prev: sha256Hex("not the entry before"), ts: e.ts, host: e.host, user: e.user },
    key,
  );
  ls[21] = enc.encode(wrong.line);
  await Deno.writeFile(auditPaths(dir).log, join(ls));
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) => err instanceof AuditRefusedError && /prev does not match/.test(err.message),
  );
});

Deno.test("a keyring swapped for one that starts with the current key is still refused", async () => {
  // The reviewer's case: the log is genuine, but the trust root on the host now names the
  // current key, so the full verification says "unknown key" at line 1; so must the seal.
  const dir = await freshStateDir();
  await appendMany(dir, 20);
  await writeCheckpoint(dir, { rotate: true });
  await writeCheckpoint(dir); // a checkpoint signed by the current key, no rotation
  await appendMany(dir, 3, 21);
  const key = await currentKey(dir);
  await Deno.writeTextFile(
    auditPaths(dir).keyring,
    JSON.stringify({
      version: 1,
      keys: {
        [key.kid]: {
          public_key: btoa(String.fromCharCode(...key.publicKeyRaw)),
          from_seq: 1,
          to_seq: null,
          created: new Date().toISOString(),
        },
      },
    }),
  );
  assert.equal((await verifyAuditLog(dir)).firstBad?.reason, "unknown key");
  await assert.rejects(
    () => writeCheckpoint(dir, { rotate: true }),
    (err: Error) => err instanceof AuditRefusedError && /line 1 of .*unknown key/.test(err.message),
  );
});

Deno.test("a log upgraded from format v1 seals from its last checkpoint too", async () => {
  const dir = await v1StateDir();
  assert.equal((await writeCheckpoint(dir, { rotate: true })).since, undefined);
  await appendMany(dir, 2);
  const second = await writeCheckpoint(dir, { rotate: true });
  assert.notEqual(second.since, undefined, "the v1-era key.rotated entries carry the chain");
  const r = await verifyAuditLog(dir, { checkpointFiles: [second.path] });
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
});

Deno.test(`every ${FULL_EVERY}th seal verifies the whole history anyway`, async () => {
  const dir = await freshStateDir();
  const whole: number[] = [];
  for (let seal = 1; seal <= FULL_EVERY + 1; seal++) {
    await appendMany(dir, 1, seal);
    if ((await writeCheckpoint(dir, { rotate: true })).since === undefined) whole.push(seal);
  }
  assert.deepEqual(whole, [1, FULL_EVERY]);
});

Deno.test("junk in the checkpoints directory does not keep the seal from its last checkpoint", async () => {
  const dir = await sealedLog(10, 2);
  for (const name of ["9999-12-31T23-59-59-997Z.txt", "9999-12-31T23-59-59-998Z.txt", "zzz.txt"]) {
    await Deno.writeTextFile(`${auditPaths(dir).checkpoints}/${name}`, "not a checkpoint\n");
  }
  await plantCheckpoint(dir, "not a checkpoint either\n");
  assert.equal((await writeCheckpoint(dir, { rotate: true })).since, 11);
});

Deno.test("a witness's checkpoint of the empty log matches any log", async () => {
  const dir = await freshStateDir();
  const rootKey = await currentKey(dir);
  const empty = parseCheckpoint(makeCheckpoint(checkpointOrigin({}), 0, EMPTY_ROOT, rootKey));
  await appendMany(dir, 5);
  const first = await writeCheckpoint(dir, { rotate: true });
  await appendMany(dir, 2, 6);
  const lines = historyLines(await loadHistory(dir));
  const root = keyForSeq(await readKeyring(dir), 1)!;
  const local = parseCheckpoint(await Deno.readTextFile(first.path));
  assert.equal(verifySinceCheckpoint(lines, root, [local], [empty])?.since, first.size);
});

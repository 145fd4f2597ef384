// RFC 6962 trees and consistency proofs, and the C2SP checkpoint note built on them.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  consistencyProof,
  EMPTY_ROOT,
  leafHash,
  rootsAtSizes,
  treeRoot,
  verifyConsistency,
} from "../../src/audit/merkle.ts";
import { makeCheckpoint, noteKeyId, parseCheckpoint } from "../../src/audit/checkpoint_core.ts";
import { newKeyPair, signerFromPem } from "../../src/audit/keys.ts";
import { createPublicKey, verify } from "node:crypto";

// The reference inputs of the certificate-transparency test suite (merkle_tree_test).
const INPUTS = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
]
  .map((h) => new Uint8Array(Buffer.from(h, "hex")));
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

Deno.test("Merkle roots match the RFC 6962 reference vectors", () => {
  const leaves = INPUTS.map(leafHash);
  assert.equal(hex(EMPTY_ROOT), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ROOTS.forEach((root, i) => assert.equal(hex(treeRoot(leaves, i + 1)), root, `size ${i + 1}`));
  const many = rootsAtSizes(leaves, [1, 2, 3, 4, 5, 6, 7, 8]);
  ROOTS.forEach((root, i) => assert.equal(hex(many.get(i + 1)!), root, `stack root ${i + 1}`));
});

Deno.test("every consistency proof up to 40 leaves verifies, and no altered one does", () => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(new TextEncoder().encode(`l${i}`)));
  const roots = rootsAtSizes(leaves, Array.from({ length: 41 }, (_, i) => i));
  for (let n = 0; n <= 40; n++) {
    for (let m = 0; m <= n; m++) {
      const proof = consistencyProof(leaves, m, n);
      assert.ok(verifyConsistency(m, n, roots.get(m)!, roots.get(n)!, proof), `${m} -> ${n}`);
      if (m === 0 || m === n) continue;
      const other = leaves.slice();
      other[m - 1] = leafHash(new TextEncoder().encode("rewritten"));
      assert.ok(
        !verifyConsistency(m, n, treeRoot(other, m), roots.get(n)!, proof),
        `old root ${m}`,
      );
      for (let k = 0; k < proof.length; k++) {
        const bad = proof.map((h) => new Uint8Array(h));
        bad[k][0] ^= 1;
        assert.ok(!verifyConsistency(m, n, roots.get(m)!, roots.get(n)!, bad), `${m}->${n} #${k}`);
      }
    }
  }
});

Deno.test("a checkpoint is a C2SP signed note that any Ed25519 verifier can check", () => {
  const kp = newKeyPair();
  const signer = signerFromPem(kp.privatePem);
  const root = treeRoot(INPUTS.map(leafHash), 8);
  const text = makeCheckpoint("example.org/protocol-audit", 8, root, signer);
  const [body, sigLine] = text.split("\n\n");
  assert.equal(body, `example.org/protocol-audit\n8\n${Buffer.from(root).toString("base64")}`);
  const m = /^— example\.org\/protocol-audit (\S+)\n$/.exec(sigLine);
  assert.ok(m, sigLine);
  const blob = Buffer.from(m[1], "base64");
  // key ID = SHA-256(name || 0x0A || 0x01 || pubkey)[:4], then the signature over the note text.
  assert.equal(blob.readUInt32BE(0), noteKeyId("example.org/protocol-audit", kp.publicKeyRaw));
  assert.ok(
    verify(
      null,
      new TextEncoder().encode(body + "\n"),
      createPublicKey(kp.publicKeyPem),
      blob.subarray(4),
    ),
  );
  const cp = parseCheckpoint(text);
  assert.deepEqual([cp.origin, cp.size, hex(cp.root)], [
    "example.org/protocol-audit",
    8,
    hex(root),
  ]);
  for (
    const bad of [
      text.replace("\n\n", "\n"),
      text.replace("\n8\n", "\n08\n"),
      "x\n1\nAAAA\n\n— x AAAAAAA=\n",
    ]
  ) {
    assert.throws(() => parseCheckpoint(bad, "cp.txt"), /cp\.txt is not a checkpoint/);
  }
});

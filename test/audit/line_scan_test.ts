// The byte scanner verification runs on every line may only ever accept what the strict parser
// accepts as a canonical v2 entry, with the same seq, action, prev and kid; and it must take
// the common line, or verification gains nothing.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { buildEntry, GENESIS_PREV, parseEntryLine, type Signer } from "../../src/audit/entry.ts";
import { KID_FROM_END, PREV_FROM_END, scanCanonicalLine } from "../../src/audit/line_scan.ts";

const { privateKey } = generateKeyPairSync("ed25519");
const signer: Signer = {
  kid: "0123456789abcdef",
  sign: (d) => sign(null, d, privateKey).toString("base64"),
};
const ctx = (seq: number) => ({
  seq,
  prev: GENESIS_PREV,
  ts: "2026-11-29T08:00:00.000Z",
  host: "web-1",
  user: "deploy",
});
const enc = new TextEncoder();
const dec = new TextDecoder();
const lineOf = (fields: Record<string, string | number | boolean>, seq = 7) =>
  enc.encode(buildEntry({ action: "deploy", ...fields }, ctx(seq), signer).line);

const samples = [
  lineOf({ repo: "/opt/app", from: "v1.1.0", to: "v1.2.0", env: "prod" }),
  lineOf({ action: "key.rotated", new_kid: "fedcba9876543210", old_kid: "0123456789abcdef" }, 9),
  lineOf({ n: 0, neg: -12, big: 999_999_999_999_999, ok: true, bad: false }),
  lineOf({ frac: 1.5, huge: 1e21, tiny: -0 }),
  lineOf({ note: 'quote " backslash \\ tab \t newline \n' }),
  lineOf({ who: "Zoë 日本 😀", lone: "\ud800" }),
  lineOf({ a: "", z: " " }, 123456789012),
];

function agrees(bytes: Uint8Array): void {
  const out = { seq: 0, rotation: false };
  if (!scanCanonicalLine(bytes, out)) return; // "not recognized" is always allowed
  const p = parseEntryLine(bytes);
  const shown = dec.decode(bytes);
  assert.ok(p.ok && !p.v1Form, `scanner accepted what the parser rejects: ${shown}`);
  const n = bytes.length;
  assert.equal(out.seq, p.entry.seq, shown);
  assert.equal(out.rotation, p.entry.action === "key.rotated", shown);
  assert.equal(dec.decode(bytes.subarray(n - PREV_FROM_END, n - PREV_FROM_END + 64)), p.entry.prev);
  assert.equal(dec.decode(bytes.subarray(n - KID_FROM_END, n - KID_FROM_END + 16)), p.entry.kid);
}

Deno.test("the scanner takes the common line and agrees with the parser on every sample", () => {
  const take = (b: Uint8Array) => scanCanonicalLine(b, { seq: 0, rotation: false });
  assert.equal(take(samples[0]), true);
  assert.equal(take(samples[1]), true);
  assert.equal(take(samples[2]), true);
  assert.equal(take(samples[6]), true);
  // Fractions, escapes and non-ASCII go to the strict parser.
  for (const s of samples.slice(3, 6)) assert.equal(take(s), false, dec.decode(s));
  for (const s of samples) agrees(s);
});

Deno.test("on 60,000 mutated lines the scanner never accepts what the parser rejects", () => {
  let state = 0x9e3779b9;
  const rand = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const alphabet = enc.encode('"\\{}:,.-+eE0123456789azAZ_ \t\x7f');
  let accepted = 0;
  for (let round = 0; round < 60_000; round++) {
    const base = samples[rand(samples.length)];
    const b = [...base];
    const edits = 1 + rand(3);
    for (let e = 0; e < edits; e++) {
      const at = rand(b.length);
      const c = rand(6) === 0 ? 0x80 + rand(128) : alphabet[rand(alphabet.length)];
      const kind = rand(3);
      if (kind === 0) b[at] = c;
      else if (kind === 1) b.splice(at, 0, c);
      else b.splice(at, 1);
    }
    const bytes = new Uint8Array(b);
    if (scanCanonicalLine(bytes, { seq: 0, rotation: false })) accepted++;
    agrees(bytes);
  }
  assert.ok(accepted > 100, `only ${accepted} mutated lines were recognized: too few to tell`);
});

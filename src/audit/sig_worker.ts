/**
 * Worker half of parallel signature checking: given a block of lines and candidate public keys,
 * answers "does this line's signature verify under the key its kid names?" per line. It judges
 * nothing else; the sequential pass in verify_core.ts still checks every rule and only takes a
 * `1` from here as a shortcut for a signature it would otherwise check itself.
 *
 * @example
 * ```ts
 * declare const buf: Uint8Array;
 * declare const offsets: Uint32Array;
 * declare const raw: Uint8Array;
 * const w = new Worker(new URL("./sig_worker.ts", import.meta.url), { type: "module" });
 * w.postMessage({ buf, offsets, keys: [["0123456789abcdef", raw]] });
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { type KeyObject, verify } from "node:crypto";
import { signedPartsInto } from "./entry.ts";
import { publicKeyFromRaw } from "./keys.ts";

/** Request: lines packed into one buffer; line j is buf[offsets[j], offsets[j+1]). */
export interface SigRequest {
  buf: Uint8Array;
  offsets: Uint32Array;
  keys: [string, Uint8Array][];
}

// No JSON parsing and no allocation per line: the signed bytes are the line itself minus its
// fixed-length sig field, copied into one reused buffer.
self.onmessage = (ev: MessageEvent<SigRequest>) => {
  const { buf, offsets, keys } = ev.data;
  const keyObjects = new Map<string, KeyObject>(
    keys.map(([kid, raw]) => [kid, publicKeyFromRaw(raw)]),
  );
  const valid = new Uint8Array(offsets.length - 1);
  let longest = 0;
  for (let j = 0; j < valid.length; j++) longest = Math.max(longest, offsets[j + 1] - offsets[j]);
  const scratch = { message: new Uint8Array(longest + 64), sig: new Uint8Array(64) };
  for (let j = 0; j < valid.length; j++) {
    try {
      const m = signedPartsInto(buf.subarray(offsets[j], offsets[j + 1]), scratch);
      const key = m && keyObjects.get(m.kid);
      if (key && verify(null, scratch.message.subarray(0, m.messageLength), key, scratch.sig)) {
        valid[j] = 1;
      }
    } catch {
      // Anything malformed stays 0; the sequential pass diagnoses it.
    }
  }
  self.postMessage(valid, [valid.buffer]);
};

/**
 * The reference HTTP witness (`deno task witness:serve`): stores every checkpoint it accepts
 * and refuses one inconsistent with the latest it holds for the same origin, like a
 * transparency-log witness (C2SP tlog-witness `add-checkpoint`: 409 with the size it holds when
 * the client's old size is stale, 422 when the consistency proof fails or the same size comes
 * with another root). It checks consistency, not log signatures: the log's keys evolve every run,
 * and `audit:verify` checks every signature against the key chain. It returns no cosignature.
 *
 * @example
 * ```ts
 * import { witnessHandler } from "./server.ts";
 * Deno.serve({ port: 8700 }, witnessHandler("/srv/witness"));
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { parseCheckpoint } from "../checkpoint_core.ts";
import { EMPTY_ROOT, verifyConsistency } from "../merkle.ts";

const MAX_BODY = 64 * 1024;

/**
 * A request handler storing checkpoints under `dir/<sha256(origin)>/<size>.txt`.
 *
 * @example
 * ```ts
 * const handle = witnessHandler("/srv/witness");
 * await handle(new Request("http://w/checkpoints?origin=example.org/audit"));
 * ```
 */
export function witnessHandler(dir: string): (req: Request) => Promise<Response> {
  let queue: Promise<unknown> = Promise.resolve();
  // One submission at a time, so "latest" cannot change between the check and the write.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  return async (req) => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/checkpoints") {
      const origin = url.searchParams.get("origin") ?? "";
      const held = await heldCheckpoints(dir, origin);
      return Response.json({ checkpoints: held.map((h) => h.text) });
    }
    if (req.method === "POST" && url.pathname === "/add-checkpoint") {
      const body = await req.text();
      if (body.length > MAX_BODY) return text(413, "body too large\n");
      return await serial(() => addCheckpoint(dir, body));
    }
    return text(404, "not found\n");
  };
}

async function addCheckpoint(dir: string, body: string): Promise<Response> {
  const m = /^old (0|[1-9][0-9]*)\n((?:[A-Za-z0-9+/]{43}=\n)*)\n/.exec(body);
  if (!m) return text(400, "body must be: old <size>, proof lines, a blank line, a checkpoint\n");
  const old = Number(m[1]);
  const proof = m[2].split("\n").filter(Boolean).map((l) =>
    new Uint8Array(Buffer.from(l, "base64"))
  );
  let cp;
  try {
    cp = parseCheckpoint(body.slice(m[0].length), "submitted checkpoint");
  } catch (err) {
    return text(400, `${(err as Error).message}\n`);
  }
  if (old > cp.size) return text(400, "old size is larger than the checkpoint size\n");
  const held = await heldCheckpoints(dir, cp.origin);
  const latest = held.at(-1);
  if (old !== (latest?.size ?? 0)) {
    return new Response(`${latest?.size ?? 0}\n`, {
      status: 409,
      headers: { "content-type": "text/x.tlog.size" },
    });
  }
  if (cp.size === 0 && Buffer.compare(cp.root, EMPTY_ROOT) !== 0) {
    return text(422, "a checkpoint of size 0 must have the empty root\n");
  }
  if (latest && !verifyConsistency(latest.size, cp.size, latest.root, cp.root, proof)) {
    return text(
      422,
      `inconsistent with the checkpoint of size ${latest.size} this witness holds\n`,
    );
  }
  if (!latest && proof.length) return text(422, "no proof is expected from size 0\n");
  if (latest?.size === cp.size) return text(200, ""); // the same checkpoint again
  const originDir = join(dir, originKey(cp.origin));
  await Deno.mkdir(originDir, { recursive: true });
  const path = join(originDir, `${String(cp.size).padStart(16, "0")}.txt`);
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, body.slice(m[0].length));
  await Deno.rename(tmp, path);
  return text(200, "");
}

async function heldCheckpoints(
  dir: string,
  origin: string,
): Promise<{ size: number; root: Uint8Array; text: string }[]> {
  const originDir = join(dir, originKey(origin));
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(originDir)) {
      if (/^\d{16}\.txt$/.test(e.name)) names.push(e.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  names.sort();
  const out = [];
  for (const name of names) {
    const t = await Deno.readTextFile(join(originDir, name));
    const cp = parseCheckpoint(t, name);
    out.push({ size: cp.size, root: cp.root, text: t });
  }
  return out;
}

function originKey(origin: string): string {
  return createHash("sha256").update(origin).digest("hex").slice(0, 32);
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * An HTTP witness client, speaking the C2SP tlog-witness `add-checkpoint` request (old size,
 * consistency proof, checkpoint) plus `GET /checkpoints?origin=` to read back every checkpoint
 * the witness holds.
 *
 * @example
 * ```ts
 * declare const text: string;
 * declare const proofFrom: (old: number) => Uint8Array[];
 * import { HttpWitness } from "./http.ts";
 * const w = new HttpWitness("http://127.0.0.1:8700");
 * await w.publish(text, 12, (old) => proofFrom(old));
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { WitnessError } from "./git.ts";

/**
 * The `add-checkpoint` request body.
 *
 * @example
 * ```ts
 * addCheckpointBody(0, [], "origin\n1\n...\n\n— origin sig\n");
 * ```
 */
export function addCheckpointBody(
  oldSize: number,
  proof: Uint8Array[],
  checkpoint: string,
): string {
  const lines = proof.map((h) => Buffer.from(h).toString("base64") + "\n").join("");
  return `old ${oldSize}\n${lines}\n${checkpoint}`;
}

/** An HTTP witness at a base URL. */
export class HttpWitness {
  readonly name: string;
  private readonly base: string;
  constructor(url: string) {
    this.base = url.replace(/\/+$/, "");
    this.name = `http ${this.base}`;
  }

  /** Every checkpoint the witness holds for `origin`, smallest first. */
  async checkpoints(origin: string): Promise<string[]> {
    const res = await this.request(`/checkpoints?origin=${encodeURIComponent(origin)}`);
    const body = await res.text();
    if (res.status !== 200) {
      throw new WitnessError(`${this.name}: HTTP ${res.status} ${body.trim()}`);
    }
    const v = JSON.parse(body);
    if (
      !Array.isArray(v?.checkpoints) || !v.checkpoints.every((t: unknown) => typeof t === "string")
    ) {
      throw new WitnessError(`${this.name}: unexpected answer to GET /checkpoints`);
    }
    return v.checkpoints;
  }

  /**
   * Submits a checkpoint with a consistency proof from the size the witness holds (learned from
   * its 409 answer). A 422 means the witness holds a checkpoint this log is inconsistent with.
   */
  async publish(
    text: string,
    size: number,
    proofFrom: (oldSize: number) => Uint8Array[],
  ): Promise<void> {
    let old = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (old > size) {
        throw new WitnessError(
          `${this.name} holds a checkpoint of ${old} entries but this log has ${size}: ` +
            "the log was cut back",
        );
      }
      const res = await this.request("/add-checkpoint", {
        method: "POST",
        body: addCheckpointBody(old, proofFrom(old), text),
      });
      const body = await res.text();
      if (res.status === 200) return;
      if (res.status === 409 && /^\d+\n?$/.test(body)) {
        old = Number(body.trim());
        continue;
      }
      throw new WitnessError(
        `${this.name} refused the checkpoint: HTTP ${res.status} ${body.trim()}`,
      );
    }
    throw new WitnessError(`${this.name}: the witness kept changing size`);
  }

  private async request(path: string, init?: RequestInit): Promise<Response> {
    try {
      return await fetch(this.base + path, { ...init, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw new WitnessError(`${this.name} unreachable: ${(err as Error).message}`);
    }
  }
}

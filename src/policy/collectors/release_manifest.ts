/**
 * `release_manifest`: how the live release differs from the manifest written when it was
 * deployed (`<app.dir>/manifests/<version>.sha256`, the tag's files and their SHA-256, by
 * `src/release/record.ts`). Each added, changed or removed file is an item with its path, its
 * change and its hash now (or, removed, in the manifest). Releases are exported without `.git`,
 * so git cannot say what changed in them; the manifest can. A release with no manifest (not
 * deployed by this tool, or before manifests) is not applicable.
 *
 * @example
 * ```ts
 * import { manifestFacts } from "./release_manifest.ts";
 * manifestFacts("version=v1.2.0\nmanifest=/a/m\nadded\tuploads/x.php\tab12\n").count; // 1
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";
import { parseManifestCheck, VERIFY_SCRIPT } from "../../release/record.ts";
import { defineCollector, type Facts, NotCollected, runOnTarget } from "./types.ts";
import { shellQuote } from "../../shell/quote.ts";

/** The spec of a `release_manifest` collector. */
export const ReleaseManifestSpec = z.strictObject({
  kind: z.literal("release_manifest"),
  release: z.string().min(1).describe("The live release: `<app.dir>/current` or a release dir."),
});

/**
 * The facts of a manifest check's output. Pure.
 *
 * @example
 * ```ts
 * manifestFacts("version=v1\nmanifest=none\n"); // throws NotCollected (not applicable)
 * ```
 */
export function manifestFacts(stdout: string, release = "the release"): Facts {
  const check = parseManifestCheck(stdout);
  if (check.missing === "release") throw new NotCollected("not_applicable", `no ${release}`);
  if (check.missing === "manifest") {
    throw new NotCollected(
      "not_applicable",
      `${
        check.version ?? release
      } has no manifest (deployed before manifests, or not by this tool)`,
    );
  }
  const items = check.changes.map((c) => ({ ...c, version: check.version }));
  return { version: check.version, manifest: check.manifest, items, count: items.length };
}

/** Collects `{version, manifest, items: [{file, change, sha256}], count}`. */
export const releaseManifest = defineCollector(
  ReleaseManifestSpec,
  async (spec, ctx) =>
    manifestFacts(
      await runOnTarget(ctx, `RELEASE=${shellQuote(spec.release)}\n${VERIFY_SCRIPT}`),
      spec.release,
    ),
);

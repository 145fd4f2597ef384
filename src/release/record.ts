/**
 * The one owner of a node's release record: the scripts that fetch a release (with its
 * manifest), verify it, switch `current` and record the switch (`history`, `previous`,
 * `deploys.log`). Plain deploys, rollbacks and hotfixes run them through the tasks
 * `tasks/release-fetch.yaml` and `tasks/release-switch.yaml` (generated from this module by
 * `tasks.ts`); blue-green promotions and rollbacks (`src/shadow`) run the same text. The
 * reading side is `node_state.ts`. Every script takes its values from environment variables,
 * never spliced into its text, so the same text serves a task and a TypeScript caller.
 *
 * Layout under `<app.dir>`:
 *
 * | path | what |
 * | --- | --- |
 * | `releases/<version>/` | the tag's content (`git archive`), plus `.revision` (the commit) |
 * | `manifests/<version>.sha256` | every file of the tag with its SHA-256 (`sha256sum` format) |
 * | `manifests/<version>.commit` | the commit the manifest was computed from |
 * | `quarantine/<version>-<time>/` | files found in a release that its tag does not have, or has with other bytes, moved out with `SHA256SUMS` |
 * | `current` | symlink to `releases/<version>`, replaced with a rename |
 * | `history`, `previous`, `deploys.log` | every release ever active; where a rollback goes; one line per switch |
 *
 * @example
 * ```ts
 * import { recordEnv, SWITCH_SCRIPT } from "./record.ts";
 * const request = {
 *   script: SWITCH_SCRIPT,
 *   env: recordEnv({ appDir: "/opt/app", version: "v1.2.0", kind: "deploy", operator: "ann", run: "r1" }),
 * };
 * // await target.exec(request);
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";

/** What caused a switch, as `deploys.log` records it. */
export const SWITCH_KINDS = [
  "deploy",
  "rollback",
  "hotfix",
  "shadow-start",
  "shadow-rollback",
] as const;
/** One of {@link SWITCH_KINDS}. */
export type SwitchKind = (typeof SWITCH_KINDS)[number];

/**
 * Top-level directories that a build installs into a release (dependencies): a file added
 * there is not reported as added (changed or removed tag files there still are).
 */
export const INSTALLED_DIRS = ["vendor", "node_modules"] as const;

/** Shell functions shared by the scripts: hashing a tree and comparing it with a manifest. */
const PRELUDE = `tab=$(printf '\\t')
# The files of tree $1 with their SHA-256, relative paths, sorted; .revision is ours.
hash_tree() {
  (cd "$1" && find . -type f ! -path ./.revision -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) |
    sed 's#^\\([0-9a-f]*\\)  \\./#\\1  #'
}
# How tree $1 differs from manifest $2: lines "added|changed|removed<TAB>path<TAB>sha256".
tree_diff() {
  hash_tree "$1" | LC_ALL=C awk -v manifest="$2" '
    BEGIN { while ((getline line < manifest) > 0) m[substr(line, 67)] = substr(line, 1, 64) }
    {
      p = substr($0, 67); h = substr($0, 1, 64); seen[p] = 1
      if (!(p in m)) { if (p !~ /^(${INSTALLED_DIRS.join("|")})\\//) print "added\\t" p "\\t" h }
      else if (m[p] != h) print "changed\\t" p "\\t" h
    }
    END { for (p in m) if (!(p in seen)) print "removed\\t" p "\\t" m[p] }' | LC_ALL=C sort -t "$tab" -k 2
}`;

/**
 * Fetches `$VERSION` of `$REPO` into `$APP_DIR/releases/$VERSION` and writes its manifest
 * (from the tag's content, before anything is built in it). A release directory that is
 * already there is reused only when it matches the manifest; otherwise it is rebuilt from
 * the tag into a fresh directory and every added or changed file is moved to
 * `quarantine/<version>-<time>/` with its hash. `$REBUILD=always` rebuilds even a matching
 * directory (SOP 8's eradicate). A tag that moved since the manifest was written is refused.
 * Prints `quarantined <change> <path> sha256=<hash>` for each file moved out.
 */
export const FETCH_SCRIPT = `set -e
${PRELUDE}
mkdir -p "$APP_DIR/releases" "$APP_DIR/manifests"
if [ -d "$APP_DIR/repo.git" ]; then
  git -C "$APP_DIR/repo.git" remote set-url origin "$REPO"
  git -C "$APP_DIR/repo.git" fetch --quiet --prune --tags origin
else
  git clone --quiet --mirror "$REPO" "$APP_DIR/repo.git"
fi
commit=$(git -C "$APP_DIR/repo.git" rev-parse --verify --quiet "refs/tags/$VERSION^{commit}") || {
  echo "refs/tags/$VERSION not found: only existing tags can be deployed" >&2
  exit 1
}
release="$APP_DIR/releases/$VERSION"
manifest="$APP_DIR/manifests/$VERSION.sha256"
known=$(cat "$APP_DIR/manifests/$VERSION.commit" 2>/dev/null || cat "$release/.revision" 2>/dev/null || true)
if [ -n "$known" ] && [ "$known" != "$commit" ]; then
  echo "releases/$VERSION was $known, but the tag now points to $commit: tags must not move" >&2
  exit 1
fi
fresh="$APP_DIR/releases/.$VERSION.fresh"
export_tag() {
  rm -rf "$fresh" && mkdir -p "$fresh"
  git -C "$APP_DIR/repo.git" archive "$commit" | tar -x -C "$fresh"
  echo "$commit" > "$fresh/.revision"
}
if [ ! -s "$manifest" ]; then
  export_tag
  hash_tree "$fresh" > "$manifest.next"
  mv -f "$manifest.next" "$manifest"
  echo "$commit" > "$APP_DIR/manifests/$VERSION.commit"
  echo "manifest of $VERSION written: $(wc -l < "$manifest") file(s)"
fi
if [ -d "$release" ]; then
  changes=$(tree_diff "$release" "$manifest")
  [ "$(cat "$release/.revision" 2>/dev/null)" = "$commit" ] || changes="$changes
$(printf 'changed\\t.revision\\t-')"
  changes=$(printf '%s\\n' "$changes" | sed '/^$/d')
  if [ -z "$changes" ] && [ "\${REBUILD:-}" != always ]; then
    rm -rf "$fresh"
    echo "release $VERSION already present at $commit and matches its manifest"
    exit 0
  fi
  [ -d "$fresh" ] || export_tag
  if [ -n "$changes" ]; then
    echo "releases/$VERSION differs from its tag: rebuilt from the tag, never reused"
    quarantine="$APP_DIR/quarantine/$VERSION-$(date -u +%Y%m%dT%H%M%SZ)-$$"
    mkdir -p "$quarantine"
    chmod 700 "$APP_DIR/quarantine" "$quarantine"
    printf '%s\\n' "$changes" | while IFS="$tab" read -r change path hash; do
      case "$change" in
        added|changed)
          [ -f "$release/$path" ] || continue
          mkdir -p "$quarantine/$(dirname "$path")"
          mv -f "$release/$path" "$quarantine/$path"
          printf '%s  %s\\n' "$hash" "$path" >> "$quarantine/SHA256SUMS"
          echo "quarantined $change $path sha256=$hash" ;;
        removed) echo "missing $path (restored from the tag)" ;;
      esac
    done
    echo "quarantine: $quarantine"
  else
    echo "rebuilding releases/$VERSION from its tag"
  fi
  mv -T "$release" "$release.old.$$"
  mv -T "$fresh" "$release"
  rm -rf "$release.old.$$"
  echo "releases/$VERSION rebuilt from $commit"
  exit 0
fi
[ -d "$fresh" ] || export_tag
mv -T "$fresh" "$release"
echo "checked out $VERSION at $commit"`;

/**
 * Prints how the release `current` points to differs from its manifest: `version=V` first,
 * then one `added|changed|removed<TAB>path<TAB>sha256` line each; `manifest=none` when the
 * release has none (not deployed by this tool). `$RELEASE` is the release directory or a
 * link to it (`<app.dir>/current`).
 */
export const VERIFY_SCRIPT = `set -e
${PRELUDE}
release=$(readlink -f "$RELEASE") || { echo "release=missing"; exit 0; }
[ -d "$release" ] || { echo "release=missing"; exit 0; }
version=$(basename "$release")
app=$(dirname "$(dirname "$release")")
echo "version=$version"
manifest="$app/manifests/$version.sha256"
[ -s "$manifest" ] || { echo "manifest=none"; exit 0; }
echo "manifest=$manifest"
tree_diff "$release" "$manifest"`;

/** Prints the active release of `$APP_DIR` (`none` when there is none). */
export const ACTIVE_SCRIPT =
  `if [ -L "$APP_DIR/current" ]; then basename "$(readlink "$APP_DIR/current")"; else echo none; fi`;

/**
 * Points `$APP_DIR/current` at `releases/$VERSION` with a rename (a reader sees the old or the
 * new release, never neither) and records it: `$VERSION` appended to `history`, a line
 * `time kind version from operator run` to `deploys.log`, and `previous` — where a rollback
 * without a version goes: the release active before this one was deployed (so rolling back
 * twice walks further back). A plain switch (`deploy`, `rollback`, `hotfix`) on a node whose
 * blue-green proxy runs is refused before anything changes: the proxy holds the live port, so
 * `current` would change and clients would not.
 */
export const SWITCH_SCRIPT = `set -e
cd "$APP_DIR"
test -d "releases/$VERSION" || { echo "releases/$VERSION does not exist" >&2; exit 1; }
case "$KIND" in
  shadow-*) ;;
  *)
    proxy=$(cat shadow/proxy.pid 2>/dev/null || true)
    if [ -n "$proxy" ] && kill -0 "$proxy" 2>/dev/null; then
      echo "this node runs blue-green: its front proxy (pid $proxy) holds the live port, so switching current would not change what clients get; use shadow:rollback or sop:shadow-deploy here (nothing was changed)" >&2
      exit 1
    fi ;;
esac
from=none
if [ -L current ]; then from=$(basename "$(readlink current)"); fi
ln -sfn "releases/$VERSION" current.next
mv -T current.next current
echo "$VERSION" >> history
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$KIND" "$VERSION" "$from" "$OPERATOR" "$RUN" >> deploys.log
case "$KIND" in
  *rollback)
    # Back to where the release rolled back to came from when it was deployed.
    previous=$(awk -F '\\t' -v v="$VERSION" '$2 !~ /rollback$/ && $3 == v && $4 != v && $4 != "none" { p = $4 } END { print p }' deploys.log) ;;
  *)
    if [ "$from" != "$VERSION" ] && [ "$from" != none ]; then previous=$from
    else previous=$(cat previous 2>/dev/null || true); fi ;;
esac
printf '%s\\n' "$previous" > previous.next
mv -T previous.next previous
echo "current -> releases/$VERSION (previous: \${previous:-none})"`;

/** The values the scripts read. */
export interface RecordValues {
  appDir: string;
  version?: string;
  repo?: string;
  kind?: SwitchKind;
  operator?: string;
  run?: string;
  rebuild?: "always";
}

/**
 * The environment of a record script. Pure.
 *
 * @example
 * ```ts
 * recordEnv({ appDir: "/opt/app", version: "v1.2.0" }); // { APP_DIR: "/opt/app", VERSION: "v1.2.0" }
 * ```
 */
export function recordEnv(values: RecordValues): Record<string, string> {
  const env: Record<string, string> = { APP_DIR: values.appDir };
  if (values.version !== undefined) env.VERSION = values.version;
  if (values.repo !== undefined) env.REPO = values.repo;
  if (values.kind !== undefined) env.KIND = values.kind;
  if (values.operator !== undefined) env.OPERATOR = values.operator;
  if (values.run !== undefined) env.RUN = values.run;
  if (values.rebuild !== undefined) env.REBUILD = values.rebuild;
  return env;
}

/**
 * A script with its values as quoted assignments in front, for a caller that only runs text
 * (a step of a longer script). Pure.
 *
 * @example
 * ```ts
 * withValues(ACTIVE_SCRIPT, { appDir: "/opt/my app" }).startsWith("APP_DIR='/opt/my app'"); // true
 * ```
 */
export function withValues(script: string, values: RecordValues): string {
  const assignments = Object.entries(recordEnv(values))
    .map(([key, value]) => `${key}=${shellQuote(value)}`);
  // A subshell: `set -e` and `cd` stay inside, and `exit 0` ends only this part.
  return `${assignments.join("\n")}\n(\n${script}\n)`;
}

/** How a release differs from its manifest. */
export interface ManifestChange {
  change: "added" | "changed" | "removed";
  file: string;
  sha256: string;
}

/** What {@link VERIFY_SCRIPT} found. */
export interface ManifestCheck {
  version?: string;
  /** No release directory, or no manifest for it. */
  missing?: "release" | "manifest";
  manifest?: string;
  changes: ManifestChange[];
}

/**
 * Parses {@link VERIFY_SCRIPT}'s output. Pure.
 *
 * @example
 * ```ts
 * parseManifestCheck("version=v1.2.0\nmanifest=/a/m\nadded\tuploads/x.php\tab12\n").changes;
 * // [{ change: "added", file: "uploads/x.php", sha256: "ab12" }]
 * ```
 */
export function parseManifestCheck(stdout: string): ManifestCheck {
  const check: ManifestCheck = { changes: [] };
  for (const line of stdout.split("\n")) {
    const [change, file, sha256] = line.split("\t");
    if ((change === "added" || change === "changed" || change === "removed") && file) {
      check.changes.push({ change, file, sha256: sha256 ?? "" });
    } else if (line.startsWith("version=")) check.version = line.slice(8);
    else if (line === "release=missing") check.missing = "release";
    else if (line === "manifest=none") check.missing = "manifest";
    else if (line.startsWith("manifest=")) check.manifest = line.slice(9);
  }
  return check;
}

/** A file moved out of a release by {@link FETCH_SCRIPT}. */
export interface Quarantined {
  change: "added" | "changed";
  file: string;
  sha256: string;
}

/**
 * The files {@link FETCH_SCRIPT} moved to quarantine, from its output. Pure.
 *
 * @example
 * ```ts
 * parseQuarantined("quarantined added uploads/x.php sha256=ab12\n")[0].file; // "uploads/x.php"
 * ```
 */
export function parseQuarantined(stdout: string): Quarantined[] {
  return [...stdout.matchAll(/^quarantined (added|changed) (.+) sha256=([0-9a-f-]+)$/gm)]
    .map(([, change, file, sha256]) => ({ change: change as Quarantined["change"], file, sha256 }));
}

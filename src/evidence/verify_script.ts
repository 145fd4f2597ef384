/**
 * The evidence pack's `verify` script (pure): plain POSIX shell and `sha256sum`, so an auditor
 * checks the pack's claims without installing anything — and, where the tool is at hand, every
 * signature and the population drawn again.
 *
 * @example
 * ```ts
 * import { verifyScript } from "./verify_script.ts";
 * const drawn = { from: "2026-07-01", to: "2026-09-30", runbooks: ["deploy"] };
 * verifyScript(["deployments.log"], drawn).startsWith("#!/bin/sh"); // true
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";

/** The population a pack claims: its period (UTC days, both included) and change runbooks. */
export interface DrawnPopulation {
  from: string;
  to: string;
  runbooks: readonly string[];
}

/**
 * The script, given the copied history files oldest first and the population the pack claims.
 *
 * @example
 * ```ts
 * const drawn = { from: "2026-07-01", to: "2026-09-30", runbooks: ["deploy"] };
 * verifyScript(["deployments.log.1", "deployments.log"], drawn).includes("claims.txt"); // true
 * ```
 */
export function verifyScript(historyFiles: readonly string[], drawn: DrawnPopulation): string {
  const files = historyFiles.map((f) => `log/${shellQuote(f)}`).join(" ");
  const population = [
    "--from",
    drawn.from,
    "--to",
    drawn.to,
    "--runbooks",
    drawn.runbooks.join(","),
  ]
    .map(shellQuote).join(" ");
  return `#!/bin/sh
# Checks this evidence pack against its copy of the audit log, with plain shell tools:
#  1. every line's "prev" is the SHA-256 of the line before it (the hash chain is unbroken);
#  2. every change and drill claimed (claims.txt: "seq sha256") is the log line with that seq,
#     and that line hashes to the claimed SHA-256.
# With the tool installed (PROTOCOL_TOOL=/path/to/checkout), it also checks every signature
# (against PROTOCOL_PUBKEY, the trust root you keep, when set) and draws the population again
# from the copy of the log: a change missing from claims.txt fails, as does a claim too many.
set -eu
caller=$(pwd)
cd "$(dirname "$0")"
pack=$(pwd)
all=$(mktemp); trap 'rm -f "$all"' EXIT
trap 'exit 143' TERM INT HUP # a stop is an exit, which cleans up (dash runs no EXIT trap on a signal)
cat ${files} > "$all"
fail=0
prev=""
n=0
while IFS= read -r line; do
  n=$((n + 1))
  if [ -n "$prev" ]; then
    claimed=$(printf '%s' "$line" | sed -n 's/.*"prev":"\\([0-9a-f]*\\)".*/\\1/p')
    if [ "$claimed" != "$prev" ]; then
      echo "chain broken at line $n: prev $claimed, expected $prev"; fail=1
    fi
  fi
  prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
done < "$all"
echo "hash chain: $n lines checked"
checked=0
while read -r seq hash; do
  line=$(grep -m1 "^{\\"seq\\":$seq," "$all" || true)
  actual=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
  if [ -z "$line" ] || [ "$actual" != "$hash" ]; then
    echo "claim seq $seq: expected sha256 $hash, log has \${actual:-no such line}"; fail=1
  fi
  checked=$((checked + 1))
done < claims.txt
echo "claims: $checked checked"
if [ -n "\${PROTOCOL_TOOL:-}" ]; then
  set -- --state-dir "$pack/log"
  if [ -n "\${PROTOCOL_PUBKEY:-}" ]; then
    case "$PROTOCOL_PUBKEY" in /*) ;; *) PROTOCOL_PUBKEY="$caller/$PROTOCOL_PUBKEY" ;; esac
    set -- "$@" --pubkey "$PROTOCOL_PUBKEY"
  fi
  tool() { (cd "$PROTOCOL_TOOL" && deno run -A src/cli/main.ts "$@"); }
  tool audit:verify "$@" || fail=1
  drawn=$(mktemp); claimed=$(mktemp); trap 'rm -f "$all" "$drawn" "$claimed"' EXIT
  if tool audit:population "$@" ${population} --format claims > "$drawn"; then
    sort "$drawn" -o "$drawn"; sort claims.txt -o "$claimed"
    comm -13 "$claimed" "$drawn" | sed 's/^/not claimed: /'
    comm -23 "$claimed" "$drawn" | sed 's/^/claimed but not a change or drill of the period: /'
    if ! cmp -s "$claimed" "$drawn"; then fail=1; fi
    echo "population: $(grep -c '' "$drawn") change(s) and drill(s) drawn again from log/"
  else
    fail=1
  fi
else
  echo "signatures: set PROTOCOL_TOOL to a checkout of the tool to check them too"
fi
if [ "$fail" -eq 0 ]; then echo "OK: every claim matches the log"; else echo "FAILED"; fi
exit "$fail"
`;
}

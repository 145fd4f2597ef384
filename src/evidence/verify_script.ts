/**
 * The evidence pack's `verify` script (pure): plain POSIX shell and `sha256sum`, so an auditor
 * checks the pack's claims without installing anything — and, where the tool is at hand, every
 * signature too.
 *
 * @example
 * ```ts
 * import { verifyScript } from "./verify_script.ts";
 * verifyScript(["deployments.log"]).startsWith("#!/bin/sh"); // true
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";

/**
 * The script, given the copied history files oldest first.
 *
 * @example
 * ```ts
 * verifyScript(["deployments.log.1", "deployments.log"]).includes("claims.txt"); // true
 * ```
 */
export function verifyScript(historyFiles: readonly string[]): string {
  const files = historyFiles.map((f) => `log/${shellQuote(f)}`).join(" ");
  return `#!/bin/sh
# Checks this evidence pack against its copy of the audit log, with plain shell tools:
#  1. every line's "prev" is the SHA-256 of the line before it (the hash chain is unbroken);
#  2. every change and drill claimed (claims.txt: "seq sha256") is the log line with that seq,
#     and that line hashes to the claimed SHA-256.
# With the tool installed (PROTOCOL_TOOL=/path/to/checkout), it also checks every signature.
set -eu
cd "$(dirname "$0")"
all=$(mktemp); trap 'rm -f "$all"' EXIT
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
  (cd "$PROTOCOL_TOOL" && deno run -A src/cli/main.ts audit:verify --state-dir "$OLDPWD/log") || fail=1
else
  echo "signatures: set PROTOCOL_TOOL to a checkout of the tool to check them too"
fi
if [ "$fail" -eq 0 ]; then echo "OK: every claim matches the log"; else echo "FAILED"; fi
exit "$fail"
`;
}

/**
 * The `audit:` block of `protocol.yaml`: the checkpoint origin and the witnesses off the host
 * that every checkpoint is published to (and that `audit:verify` checks the log against).
 *
 * @example
 * ```ts
 * import { AuditConfigSchema } from "./config.ts";
 * AuditConfigSchema.parse({ witness: { http: "https://witness.example.org" } });
 * ```
 * @module
 */
import { z } from "../../source/zod.ts";

// A C2SP checkpoint origin is also the note key name: printable ASCII, no space, no "+".
const Origin = z.string().regex(/^[\x21-\x2a\x2c-\x7e]{1,255}$/, {
  error: "expected a checkpoint origin such as `example.org/protocol-audit` (no spaces, no +)",
});

/** Where checkpoints are published. At least one of `git` and `http`. */
export const WitnessSchema = z.strictObject({
  git: z.string().min(1).optional().describe(
    "Git remote URL (ssh://…, user@host:path, or a path) whose branch receives one commit per " +
      "checkpoint; the server should set receive.denyNonFastForwards and receive.denyDeletes.",
  ),
  branch: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/).default("audit-checkpoints")
    .describe("Branch of the git witness."),
  identity: z.string().min(1).optional().describe("SSH private key for the git witness."),
  known_hosts: z.string().min(1).optional().describe("known_hosts for the git witness."),
  http: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }).optional()
    .describe(
      "Base URL of an HTTP witness (`deno task witness:serve`): POST <url>/add-checkpoint.",
    ),
}).refine((w) => w.git !== undefined || w.http !== undefined, {
  error: "a witness needs `git` or `http` (or both)",
});

/** The `audit:` block. */
export const AuditConfigSchema = z.strictObject({
  origin: Origin.optional().describe(
    "Checkpoint origin line (default: <hostname>/protocol-audit).",
  ),
  witness: WitnessSchema.optional().describe("Where every checkpoint is published."),
});

/** The parsed `audit:` block. */
export type AuditConfig = z.infer<typeof AuditConfigSchema>;
/** The parsed `audit.witness` block. */
export type WitnessConfig = z.infer<typeof WitnessSchema>;

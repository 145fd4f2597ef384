/**
 * `approvers.yaml`: the people who may deploy and approve, with their public keys and roles.
 * Kept in a repository the operators cannot change alone (a protected branch with required
 * review), so adding yourself as an approver needs the approval of someone already listed.
 *
 * ```yaml
 * approvers:
 *   - name: alice@example.com
 *     public_key: ed25519:3q2+7w...=
 *     roles: [deployer, approver]
 * ```
 *
 * @example
 * ```ts
 * import { parseApprovers } from "./approvers.ts";
 * const list = parseApprovers("approvers.yaml", "approvers: []\n");
 * list.length; // 0
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "../source/zod.ts";
import {
  InvalidFileError,
  parseSource,
  type Problem,
  schemaProblems,
  type Source,
} from "../source/mod.ts";
import { InputError } from "../errors.ts";
import { readBytesOrRefuse } from "./read.ts";
import { isPublicKeyText } from "./signed.ts";

/** What a listed person may do: start a change (`deployer`) or approve one (`approver`). */
export const ROLES = ["deployer", "approver"] as const;
/** A role of {@link ROLES}. */
export type Role = typeof ROLES[number];

/** The file's schema. */
export const ApproversSchema = z.strictObject({
  approvers: z.array(z.strictObject({
    name: z.string().min(1).describe("The person, as their identity names them."),
    public_key: z.string().describe("`ed25519:<base64>`, printed by identity:keygen."),
    roles: z.array(z.enum(ROLES)).min(1),
  })),
});

/** One listed person. */
export interface Approver {
  name: string;
  publicKey: string;
  roles: Role[];
}

const KNOWN_KEYS = ["approvers", "name", "public_key", "roles"];

/**
 * Parses and validates `approvers.yaml` text; every problem names `file:line:column`.
 *
 * @example
 * ```ts
 * parseApprovers("approvers.yaml", "approvers:\n  - name: a\n    public_key: x\n    roles: [approver]\n");
 * // throws InvalidFileError: approvers.yaml:3:17: approvers[0].public_key: ...
 * ```
 */
export function parseApprovers(file: string, text: string): Approver[] {
  const source = parseSource(file, text);
  if (source.problems.length) throw new InvalidFileError(source.problems);
  const parsed = ApproversSchema.safeParse(source.data ?? {});
  if (!parsed.success) {
    throw new InvalidFileError(schemaProblems(source, parsed.error.issues, KNOWN_KEYS));
  }
  const problems = semanticProblems(source, parsed.data);
  if (problems.length) throw new InvalidFileError(problems);
  return parsed.data.approvers.map((a) => ({
    name: a.name,
    publicKey: a.public_key,
    roles: [...new Set(a.roles)],
  }));
}

/**
 * Reads and validates the approvers file at `path`.
 *
 * @example
 * ```ts
 * const approvers = await loadApprovers("/srv/ops/approvers.yaml");
 * ```
 */
export async function loadApprovers(path: string): Promise<Approver[]> {
  return (await loadApproversFile(path)).approvers;
}

/**
 * Reads and validates the approvers file at `path`, with the git blob id of the bytes read:
 * what the audit log records of the list a run was checked against, so an auditor can find it
 * (or not) on the protected branch with `git log --find-object=BLOB`.
 *
 * @example
 * ```ts
 * const { approvers, blob } = await loadApproversFile("/srv/ops/approvers.yaml");
 * ```
 */
export async function loadApproversFile(
  path: string,
): Promise<{ approvers: Approver[]; blob: string }> {
  const bytes = await readBytesOrRefuse(path, () =>
    new InputError(
      `no approvers file at ${path}: list your team's deployers and approvers there ` +
        `(README "Approvals"), or point --approvers / PROTOCOL_APPROVERS at it`,
    ));
  return {
    approvers: parseApprovers(path, new TextDecoder().decode(bytes)),
    blob: gitBlobId(bytes),
  };
}

/**
 * The id git gives a file with these bytes (`git hash-object FILE`): SHA-1 of
 * `blob <length>\0` and the bytes.
 *
 * @example
 * ```ts
 * gitBlobId(new Uint8Array()); // "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
 * ```
 */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function semanticProblems(
  source: Source,
  data: z.infer<typeof ApproversSchema>,
): Problem[] {
  const problems: Problem[] = [];
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  const at = (i: number, key: string, message: string) =>
    problems.push({
      file: source.file,
      ...source.positionOf(["approvers", i, key]),
      key: `approvers[${i}].${key}`,
      message,
    });
  data.approvers.forEach((approver, i) => {
    if (!isPublicKeyText(approver.public_key)) {
      at(
        i,
        "public_key",
        "expected `ed25519:` and 44 base64 characters (identity:keygen prints it)",
      );
    }
    const sameName = names.get(approver.name);
    if (sameName !== undefined) at(i, "name", `listed twice (also approvers[${sameName}])`);
    else names.set(approver.name, i);
    const sameKey = keys.get(approver.public_key);
    if (sameKey !== undefined) {
      at(i, "public_key", `is approvers[${sameKey}]'s key too: one key, one person`);
    } else keys.set(approver.public_key, i);
  });
  return problems;
}

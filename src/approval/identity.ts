/**
 * A person's identity: an Ed25519 key pair and a name (`alice@example.com`), kept in the
 * person's own home — `$PROTOCOL_IDENTITY_DIR`, else `$XDG_CONFIG_HOME/protocol/identity`,
 * else `~/.config/protocol/identity` — in `identity.json` (mode 0600, directory 0700). Never in
 * the state directory: the deploy user can read everything there, and a key that user can read
 * proves nothing about who approved.
 *
 * @example
 * ```ts
 * import { createIdentity, loadIdentity } from "./identity.ts";
 * const dir = await Deno.makeTempDir();
 * const made = await createIdentity(dir, "alice@example.com", "/home/deploy/.protocol");
 * const me = await loadIdentity(dir);
 * me.publicKey === made.publicKey; // true
 * ```
 * @module
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { join, relative, resolve } from "node:path";
import { FailureError, InputError } from "../errors.ts";
import { readOrRefuse } from "./read.ts";
import { publicKeyText } from "./signed.ts";

/** The file of an identity inside its directory. */
export const IDENTITY_FILE = "identity.json";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+@-]{0,99}$/;

/** A person who can sign requests and approvals. */
export interface Identity {
  name: string;
  /** `ed25519:<base64>`, as `approvers.yaml` lists it. */
  publicKey: string;
  privateKey: KeyObject;
  /** Where it was read from. */
  path: string;
}

/** No identity where one was looked for: the person must create one first. */
export class MissingIdentityError extends FailureError {}

/**
 * Where the identity lives, from the environment given (pure).
 *
 * @example
 * ```ts
 * identityDir({ HOME: "/home/alice" }); // "/home/alice/.config/protocol/identity"
 * ```
 */
export function identityDir(env: Record<string, string | undefined>): string {
  if (env.PROTOCOL_IDENTITY_DIR) return resolve(env.PROTOCOL_IDENTITY_DIR);
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "protocol", "identity");
  if (!env.HOME) throw new InputError("no HOME: set PROTOCOL_IDENTITY_DIR to your identity folder");
  return join(env.HOME, ".config", "protocol", "identity");
}

/**
 * Checks a person's name: an e-mail address or a plain login, no spaces.
 *
 * @example
 * ```ts
 * validName("alice@example.com"); // true
 * ```
 */
export function validName(name: string): boolean {
  return NAME.test(name);
}

/**
 * Creates a new identity in `dir`; refuses a bad name, an existing identity (unless `force`),
 * and a directory inside `stateDir`.
 *
 * @example
 * ```ts
 * const { publicKey } = await createIdentity("/home/alice/.config/protocol/identity",
 *   "alice@example.com", "/home/deploy/.protocol");
 * ```
 */
export async function createIdentity(
  dir: string,
  name: string,
  stateDir: string,
  options: { force?: boolean } = {},
): Promise<Identity> {
  if (!validName(name)) {
    throw new InputError(`--name expects an e-mail address or login without spaces, got "${name}"`);
  }
  const inside = relative(resolve(stateDir), resolve(dir));
  if (!inside.startsWith("..") && !inside.startsWith("/")) {
    throw new InputError(
      `${dir} is inside the state directory ${stateDir}: a personal key must live in the ` +
        `person's home, where the deploy user cannot read it`,
    );
  }
  const path = join(dir, IDENTITY_FILE);
  if (!options.force && await Deno.stat(path).then(() => true, () => false)) {
    throw new InputError(`${path} exists; pass --force to replace it (its old key stops working)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const text = JSON.stringify(
    {
      name,
      public_key: publicKeyText(publicKey),
      private_key: privateKey.export({ format: "pem", type: "pkcs8" }),
    },
    null,
    2,
  ) + "\n";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, text, { mode: 0o600, createNew: true });
  await Deno.rename(temp, path);
  return { name, publicKey: publicKeyText(publicKey), privateKey, path };
}

/**
 * Loads the identity in `dir`; refuses a key file others can read.
 *
 * @example
 * ```ts
 * const me = await loadIdentity("/home/alice/.config/protocol/identity");
 * console.log(me.name, me.publicKey);
 * ```
 */
export async function loadIdentity(dir: string): Promise<Identity> {
  const path = join(dir, IDENTITY_FILE);
  const text = await readOrRefuse(path, () =>
    new MissingIdentityError(
      `no identity at ${path}: create yours with \`deno task identity:keygen --name YOU\``,
    ));
  const mode = (await Deno.stat(path)).mode ?? 0;
  if (mode & 0o077) {
    throw new FailureError(
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    const privateKey = createPrivateKey(String(data.private_key));
    if (privateKey.asymmetricKeyType !== "ed25519" || typeof data.name !== "string") {
      throw new Error("not an Ed25519 identity");
    }
    const derived = publicKeyText(createPublicKey(privateKey));
    return { name: data.name, publicKey: derived, privateKey, path };
  } catch (error) {
    throw new InputError(`${path} is not an identity file: ${(error as Error).message}`);
  }
}

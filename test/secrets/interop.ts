/**
 * Independent implementations of the envelope for interoperability tests: PHP's
 * `openssl_encrypt`/`openssl_decrypt` (what the original Protocol tool uses) and Node's
 * OpenSSL-backed `crypto`. Each reads base64 input on stdin and writes base64 output.
 *
 * @example
 * ```ts
 * const envelope = await phpEncrypt(keyHex, plaintext);
 * ```
 * @module
 */

const PHP_ENCRYPT = `
$key = hex2bin($argv[1]);
$pt = base64_decode(stream_get_contents(STDIN), true);
$nonce = random_bytes(12);
$ct = openssl_encrypt($pt, 'aes-256-gcm', $key, OPENSSL_RAW_DATA, $nonce, $tag, '', 16);
echo base64_encode($nonce . $tag . $ct);
`;

const PHP_DECRYPT = `
$key = hex2bin($argv[1]);
$raw = base64_decode(stream_get_contents(STDIN), true);
$pt = openssl_decrypt(substr($raw, 28), 'aes-256-gcm', $key, OPENSSL_RAW_DATA,
  substr($raw, 0, 12), substr($raw, 12, 16));
if ($pt === false) { fwrite(STDERR, "authentication failed\\n"); exit(3); }
echo base64_encode($pt);
`;

const NODE_ENCRYPT = `
const c = require("node:crypto");
const key = Buffer.from(process.argv[1], "hex");
const pt = Buffer.from(require("node:fs").readFileSync(0, "utf8"), "base64");
const nonce = c.randomBytes(12);
const cipher = c.createCipheriv("aes-256-gcm", key, nonce);
const ct = Buffer.concat([cipher.update(pt), cipher.final()]);
process.stdout.write(Buffer.concat([nonce, cipher.getAuthTag(), ct]).toString("base64"));
`;

const NODE_DECRYPT = `
const c = require("node:crypto");
const key = Buffer.from(process.argv[1], "hex");
const raw = Buffer.from(require("node:fs").readFileSync(0, "utf8"), "base64");
const d = c.createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
d.setAuthTag(raw.subarray(12, 28));
try {
  const pt = Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  process.stdout.write(pt.toString("base64"));
} catch { process.stderr.write("authentication failed\\n"); process.exit(3); }
`;

async function pipe(argv: string[], input: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout) };
}

/** An independent implementation of encrypt and decrypt. */
export interface Peer {
  name: string;
  program: string;
  encrypt(keyHex: string, plaintext: Uint8Array): Promise<string>;
  /** The plaintext, or undefined when the peer reports an authentication failure. */
  decrypt(keyHex: string, envelope: string): Promise<Uint8Array | undefined>;
}

function peer(
  name: string,
  program: string,
  run: (code: string, key: string) => string[],
  enc: string,
  dec: string,
): Peer {
  return {
    name,
    program,
    async encrypt(keyHex, plaintext) {
      const r = await pipe(run(enc, keyHex), plaintext.toBase64());
      if (r.code !== 0) throw new Error(`${name} encrypt failed (${r.code})`);
      return r.out;
    },
    async decrypt(keyHex, envelope) {
      const r = await pipe(run(dec, keyHex), envelope);
      if (r.code === 3) return undefined;
      if (r.code !== 0) throw new Error(`${name} decrypt failed (${r.code})`);
      return Uint8Array.fromBase64(r.out);
    },
  };
}

/** PHP's openssl extension, as the original tool uses it. */
export const php: Peer = peer(
  "php",
  "php",
  (code, key) => ["php", "-r", code, key],
  PHP_ENCRYPT,
  PHP_DECRYPT,
);

/** Node's OpenSSL-backed crypto module. */
export const node: Peer = peer(
  "node",
  "node",
  (code, key) => ["node", "-e", code, key],
  NODE_ENCRYPT,
  NODE_DECRYPT,
);

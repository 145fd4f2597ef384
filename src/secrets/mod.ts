/**
 * Encrypted secrets and configuration: the envelope cipher (compatible with the original
 * Protocol tool), the key file, masking of secret values, the per-environment config
 * repository, the `@reboot` crontab entry and the git deploy key.
 *
 * Runbook steps of kind `secrets:` and `config:` call these; the runbook engine passes all
 * output, run records and audit fields through one {@link SecretMasker} per run.
 *
 * @example
 * ```ts
 * const repo = {
 *   path: "/opt/myapp-config",
 *   remote: "origin",
 *   environments: ["production", "staging"],
 *   env_dir: "/opt/myapp/shared",
 * };
 * const stepOutput = "DB_PASSWORD=hunter22";
 * import { configRefresh, readKey, SecretMasker } from "./mod.ts";
 * const masker = new SecretMasker();
 * const key = await readKey("/home/deploy/.protocol");
 * await configRefresh(repo, key, { masker });
 * console.log(masker.mask(stepOutput));
 * ```
 * @module
 */
export { decryptEnvelope, encryptEnvelope, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from "./cipher.ts";
export {
  AuthenticationError,
  CommandFailedError,
  SecretsInputError,
  SecretsRefusedError,
} from "./errors.ts";
export {
  generateKeyHex,
  hasKey,
  keyFromHex,
  keyPath,
  normalizeKeyHex,
  readKey,
  readKeyHex,
  type StoredKey,
  storeKey,
} from "./key_file.ts";
export { decryptFile, decryptFileToBytes, encryptFile, plaintextName } from "./files.ts";
export { envValues, MASK, MIN_SECRET_LENGTH, SecretMasker } from "./masking.ts";
export { configInit, configSave, configSwitch } from "./config_repo.ts";
export { type ConfigOutcome, type ConfigRepo } from "./config_checkout.ts";
export { configRefresh, decryptForRefresh, type RefreshOptions } from "./config_refresh.ts";
export { GITIGNORE_RULES, isEncrypted, isPlaintextEnv } from "./env_files.ts";
export {
  cronAdd,
  type CronApp,
  cronBlockName,
  type CronChange,
  cronMarkers,
  cronRemove,
  readCrontab,
  rebootEntry,
  withCronBlock,
  withoutAppBlocks,
  withoutCronBlock,
} from "./cron.ts";
export { installKey, type InstallKeyOptions } from "./distribute.ts";
export { rotateKey, type RotationOptions, type RotationOutcome } from "./rotate.ts";
export { type DeployKey, deployKeyArgv, generateDeployKey } from "./deploy_key.ts";

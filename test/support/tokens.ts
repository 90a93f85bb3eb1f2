/**
 * API tokens for tests: one token per role, the `auth:` YAML block that configures them (as SHA-256
 * hashes, the way a deployer writes them), an authenticator built from them, and the request header.
 */
import { Authenticator, authConfigSchema, hashToken, ROLES, type Role } from '../../server/http/auth.ts';
import { yamlFile } from './config-files.ts';

/** One token per role; each is configured under the name `test-<role>`. */
export const TEST_TOKENS: Readonly<Record<Role, string>> = Object.freeze(
  Object.fromEntries(ROLES.map((role) => [role, `cw_test-${role}-token-0123456789`])) as Record<Role, string>,
);

/** The `auth.tokens` entries for `TEST_TOKENS`. */
const TEST_TOKEN_ENTRIES = ROLES.map((role) => ({ name: `test-${role}`, role, sha256: hashToken(TEST_TOKENS[role]) }));

/** The `auth:` block configuring every `TEST_TOKENS` entry. */
export function testAuthYaml(options: { anonymousRead?: boolean } = {}): string {
  const tokens = TEST_TOKEN_ENTRIES.map(({ name, role, sha256 }) => `    - { name: ${name}, role: ${role}, sha256: "${sha256}" }`);
  return ['auth:', ...(options.anonymousRead === undefined ? [] : [`  anonymousRead: ${options.anonymousRead}`]), '  tokens:', ...tokens, ''].join('\n');
}

/** A changewatch.yaml holding only `testAuthYaml()`; pass it as `CHANGEWATCH_CONFIG`. */
export function testAuthConfigFile(options: { anonymousRead?: boolean } = {}): string {
  return yamlFile(testAuthYaml(options));
}

/** An authenticator that knows every `TEST_TOKENS` entry. */
export function testAuthenticator(options: { anonymousRead?: boolean } = {}): Authenticator {
  const config = authConfigSchema.parse({ anonymousRead: options.anonymousRead ?? true, tokens: TEST_TOKEN_ENTRIES });
  return Authenticator.fromConfig(config).authenticator;
}

/** The `Authorization` header presenting `token`. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

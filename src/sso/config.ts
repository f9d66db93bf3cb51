// OpenID Connect settings: the provider (issuer), this client, which claim means what, and what a first
// login may do. Stored as JSON in sso_config; the client secret is kept apart, sealed in the vault.
import { z } from 'zod';
import { invalid } from '../core/errors.js';

const claim = z
  .string()
  .regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'a claim name: letters, digits and _ . : / - (1-128)')
  .nullable();

export const SsoSettings = z.object({
  issuer: z
    .string()
    .max(1000)
    .refine((v) => /^https?:\/\/[^\s]+$/i.test(v) && URL.canParse(v), 'the issuer must be an http(s) URL'),
  clientId: z.string().min(1).max(512),
  /** Shown on the login page: "Sign in with <name>". */
  name: z.string().trim().min(1).max(64).default('SSO'),
  usernameClaim: z
    .string()
    .regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'a claim name')
    .default('preferred_username'),
  /** When set, a username claim `name@<domain>` is accepted as `name`; other domains are refused. */
  usernameDomain: z
    .string()
    .regex(/^[a-z0-9.-]{1,253}$/i, 'a DNS domain')
    .nullable()
    .default(null),
  groupsClaim: claim.default('groups'),
  managerClaim: claim.default(null),
  scopes: z
    .string()
    .regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'scopes separated by single spaces')
    .refine((v) => v.split(' ').includes('openid'), "the scopes must include 'openid'")
    .default('openid profile email'),
  /** PEM file of the CA that signed the provider's certificate. */
  caFile: z.string().min(1).nullable().default(null),
  /** Creates a local user on their first login; otherwise only existing users may sign in. */
  createUsers: z.boolean().default(false),
  /** Group memberships from the groups claim (local user groups of the same name). */
  syncGroups: z.boolean().default(false),
  /** Seconds to wait for the provider. */
  timeoutSeconds: z.number().int().min(1).max(60).default(10),
});
export type SsoSettings = z.infer<typeof SsoSettings>;

/** The source marker on users created by SSO (their profile fields are the provider's). */
export const SSO_SOURCE = 'sso';

export function parseSsoSettings(raw: unknown): SsoSettings {
  const r = SsoSettings.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const field = i.path.join('.') || 'settings';
  throw invalid(`sso setting '${field}': ${i.message}`, field);
}

// Per-device HTTP settings from the device's `options` JSON, kept in memory and reloaded when policy
// changes (the same event that refreshes decide()'s snapshot), so no request reads the database.
//   { "http": { "scheme": "https", "tls": "verify" | "off" | "sha256:<hex>", "auth": "basic" | "header:X-Api-Key" } }
import type { DeviceOptionsRepository } from '../../core/ports/http-proxy.js';
import type { Device } from '../../core/types.js';

export interface HttpDeviceSettings {
  scheme: 'http' | 'https';
  /** verify = CA and name checked; pin = SHA-256 of the leaf certificate; off = no check (explicit). */
  tls: { mode: 'verify' } | { mode: 'off' } | { mode: 'pin'; sha256: string };
  /** How the account's secret reaches the device: HTTP Basic, a named header, or not at all. */
  auth: { mode: 'basic' } | { mode: 'header'; name: string } | { mode: 'none' };
}

export const DEFAULT_SETTINGS: HttpDeviceSettings = { scheme: 'http', tls: { mode: 'verify' }, auth: { mode: 'basic' } };

/** Parses a device's options; unknown or malformed values fall back to the safe default (verify). */
export function parseSettings(options: unknown): HttpDeviceSettings {
  const o = (options && typeof options === 'object' ? (options as Record<string, unknown>).http : undefined) as
    Record<string, unknown> | undefined;
  if (!o || typeof o !== 'object') return DEFAULT_SETTINGS;
  const scheme = o.scheme === 'https' ? 'https' : 'http';
  let tls: HttpDeviceSettings['tls'] = { mode: 'verify' };
  if (o.tls === 'off') tls = { mode: 'off' };
  else if (typeof o.tls === 'string' && /^sha256:[0-9a-fA-F:]{64,95}$/.test(o.tls))
    tls = { mode: 'pin', sha256: o.tls.slice(7).replace(/:/g, '').toUpperCase() };
  let auth: HttpDeviceSettings['auth'] = { mode: 'basic' };
  if (o.auth === 'none') auth = { mode: 'none' };
  else if (typeof o.auth === 'string' && /^header:[A-Za-z0-9-]{1,64}$/.test(o.auth))
    auth = { mode: 'header', name: o.auth.slice(7).toLowerCase() };
  return { scheme, tls, auth };
}

export class DeviceSettingsCache {
  private byId = new Map<number, HttpDeviceSettings>();
  private loadedVersion = -1;
  private loading: Promise<void> | null = null;

  constructor(private readonly repo: DeviceOptionsRepository) {}

  /** Settings for a device under policy `version`; reloads all devices once when the version moved. */
  async get(device: Device, version: number): Promise<HttpDeviceSettings> {
    if (version !== this.loadedVersion) {
      this.loading ??= this.load(version).finally(() => (this.loading = null));
      await this.loading;
    }
    return this.byId.get(device.id) ?? DEFAULT_SETTINGS;
  }

  private async load(version: number): Promise<void> {
    const rows = await this.repo.all();
    const next = new Map<number, HttpDeviceSettings>();
    for (const r of rows) {
      let parsed: unknown = null;
      try {
        parsed = r.options ? JSON.parse(r.options) : null;
      } catch {
        parsed = null;
      }
      next.set(r.id, parseSettings(parsed));
    }
    this.byId = next;
    this.loadedVersion = version;
  }
}

// Devices with their accounts (names and kinds only: secrets are write-only) and pinned SSH host key.
import { Type } from '@sinclair/typebox';
import { Name, Nullable, Protocols } from '../schema.js';

const Ports = Type.Object({
  ssh: Type.Optional(Type.Integer()),
  sftp: Type.Optional(Type.Integer()),
  rdp: Type.Optional(Type.Integer()),
  http: Type.Optional(Type.Integer()),
  postgres: Type.Optional(Type.Integer()),
  mysql: Type.Optional(Type.Integer()),
});
export const PortsIn = Type.Object(
  {
    ssh: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    sftp: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    rdp: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    http: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    postgres: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    mysql: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: false },
);

export const Account = Type.Object({ name: Type.String(), secretKind: Type.String(), default: Type.Boolean() });

export const Device = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  host: Type.String(),
  ports: Ports,
  protocols: Type.Array(Type.String()),
  group: Nullable(Type.String()),
  hostKey: Nullable(Type.String()),
  enabled: Type.Boolean(),
  accounts: Type.Array(Account),
  /** Dead ends in words: no account (every connection refused), no device group (no rule reaches it). */
  warnings: Type.Array(Type.String()),
});

export const NewDevice = Type.Object(
  {
    name: Name,
    host: Type.String({ minLength: 1, maxLength: 255 }),
    protocols: Protocols,
    group: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    ports: Type.Optional(PortsIn),
  },
  { additionalProperties: false },
);
export const DevicePatch = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    protocols: Type.Optional(Protocols),
    group: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    ports: Type.Optional(PortsIn),
    enabled: Type.Optional(Type.Boolean()),
    /** Pin ("type base64") or clear (null) the device's SSH host key. */
    hostKey: Type.Optional(Nullable(Type.String({ maxLength: 16384 }))),
  },
  { additionalProperties: false },
);
export const AccountIn = Type.Object(
  {
    /** Write-only: stored sealed in the vault, never shown again by any route. */
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    privateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 32768 })),
    default: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const DeviceByName = Type.Object({ name: Type.String({ maxLength: 64 }) });
export const DeviceAccount = Type.Object({ name: Type.String({ maxLength: 64 }), account: Type.String({ maxLength: 64 }) });

// JSON schemas shared by the routes (TypeBox). Response schemas also filter the output: a field a
// schema does not name is never serialised.
import { Type, type TSchema } from '@sinclair/typebox';
import { APPROVAL_STATUSES, PROTOCOLS } from '../core/types.js';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Time = Nullable(Type.String({ format: 'date-time' }));
export const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_][a-z0-9._-]*$' });
export const Protocol = Type.Union(PROTOCOLS.map((p) => Type.Literal(p)));
export const Status = Type.Union(APPROVAL_STATUSES.map((p) => Type.Literal(p)));
export const Protocols = Type.Array(Protocol, { minItems: 1, maxItems: 4 });

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

/** Standard error responses, for the OpenAPI document. */
export const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const Page = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
});

export const Ok = Type.Object({ ok: Type.Boolean() });

export const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  email: Nullable(Type.String()),
  manager: Nullable(Type.String()),
  admin: Type.Boolean(),
  disabled: Type.Boolean(),
  source: Type.String(),
  groups: Type.Array(Type.String()),
});

export const UserGroup = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  requireApproval: Type.Boolean(),
  requireReason: Type.Boolean(),
  managers: Type.Array(Type.String()),
  members: Type.Array(Type.String()),
});

export const DeviceGroup = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  requireApproval: Type.Boolean(),
  requireReason: Type.Boolean(),
  managers: Type.Array(Type.String()),
  devices: Type.Array(Type.String()),
});

const Ports = Type.Object({ ssh: Type.Optional(Type.Integer()), sftp: Type.Optional(Type.Integer()), rdp: Type.Optional(Type.Integer()), http: Type.Optional(Type.Integer()) });
export const PortsIn = Type.Object(
  { ssh: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })), sftp: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })), rdp: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })), http: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })) },
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
});

export const AccessRule = Type.Object({
  id: Type.Integer(),
  userGroup: Type.String(),
  deviceGroup: Type.String(),
  protocols: Type.Array(Type.String()),
  allowPortForwarding: Type.Boolean(),
});

export const Workflow = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  userGroup: Type.String(),
  deviceGroup: Type.String(),
  levels: Type.Array(Type.Object({ level: Type.Integer(), authority: Type.String(), quorum: Type.Integer(), escalateAfterMinutes: Nullable(Type.Integer()) })),
});

export const Param = Type.Object({
  name: Type.String(),
  value: Type.String(),
  default: Type.String(),
  meaning: Type.String(),
  kind: Type.String(),
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
});

export const Approval = Type.Object({
  id: Type.Integer(),
  status: Type.String(),
  requester: Type.String(),
  device: Type.String(),
  account: Type.String(),
  protocol: Type.String(),
  reason: Nullable(Type.String()),
  kind: Type.String(),
  createdAt: Time,
  expiresAt: Time,
  decidedAt: Time,
  decidedBy: Nullable(Type.String()),
  comment: Nullable(Type.String()),
  autoApproved: Type.Boolean(),
  grantStart: Time,
  grantEnd: Time,
  clientAddress: Nullable(Type.String()),
  route: Type.Object({ source: Type.String(), name: Type.String(), why: Type.String() }),
  currentLevel: Type.Integer(),
  levels: Type.Array(
    Type.Object({ level: Type.Integer(), authority: Type.String(), quorum: Type.Integer(), escalateAfterMinutes: Nullable(Type.Integer()), approvers: Type.Array(Type.String()), escalated: Type.Boolean() }),
  ),
  approverManager: Type.Array(Type.String()),
  decisions: Type.Optional(
    Type.Array(
      Type.Object({ level: Type.Integer(), by: Type.String(), onBehalfOf: Nullable(Type.String()), decision: Type.String(), channel: Type.String(), comment: Nullable(Type.String()), at: Time }),
    ),
  ),
  /** For the console's buttons: whether the caller may decide it now. */
  canDecide: Type.Boolean(),
});

export const Session = Type.Object({
  id: Type.Integer(),
  user: Type.String(),
  device: Type.String(),
  account: Type.String(),
  protocol: Type.String(),
  approvalId: Nullable(Type.Integer()),
  clientAddress: Nullable(Type.String()),
  node: Type.String(),
  startedAt: Time,
  endedAt: Time,
  endReason: Nullable(Type.String()),
  live: Type.Boolean(),
  bytesIn: Type.Number(),
  bytesOut: Type.Number(),
  recording: Type.Boolean(),
});

export const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: Time,
  actor: Type.String(),
  channel: Type.String(),
  action: Type.String(),
  targetType: Nullable(Type.String()),
  targetId: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const Token = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Time,
  expiresAt: Time,
  lastUsedAt: Time,
  revokedAt: Time,
  /** Made from a console session that proved the second factor: only such tokens decide while one is required. */
  secondFactor: Type.Boolean(),
});

export const list = <T extends TSchema>(t: T) => Type.Object({ items: Type.Array(t), nextBeforeId: Nullable(Type.Integer()) });

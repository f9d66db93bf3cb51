// Device groups: managers and the "Connection Approval Methods" settings.
import { Type } from '@sinclair/typebox';
import { Name } from '../schema.js';

export const DeviceGroup = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  requireApproval: Type.Boolean(),
  requireReason: Type.Boolean(),
  managers: Type.Array(Type.String()),
  devices: Type.Array(Type.String()),
});

const Managers = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 });
export const NewDeviceGroup = Type.Object(
  {
    name: Name,
    managers: Type.Optional(Managers),
    requireApproval: Type.Optional(Type.Boolean()),
    requireReason: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const DeviceGroupPatch = Type.Object(
  {
    rename: Type.Optional(Name),
    managers: Type.Optional(Managers),
    requireApproval: Type.Optional(Type.Boolean()),
    requireReason: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const DeviceGroupByName = Type.Object({ name: Type.String({ maxLength: 64 }) });

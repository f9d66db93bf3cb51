// Access rules: user group x device group x protocols.
import { Type } from '@sinclair/typebox';
import { Protocols } from '../schema.js';

export const AccessRule = Type.Object({
  id: Type.Integer(),
  userGroup: Type.String(),
  deviceGroup: Type.String(),
  protocols: Type.Array(Type.String()),
  allowPortForwarding: Type.Boolean(),
});

export const AccessRulePair = Type.Object({ userGroup: Type.String({ maxLength: 64 }), deviceGroup: Type.String({ maxLength: 64 }) });
export const AccessRuleIn = Type.Object(
  { protocols: Protocols, allowPortForwarding: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

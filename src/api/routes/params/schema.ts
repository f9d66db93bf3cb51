// System parameters: each dotted name with its value, default, meaning and validation.
import { Type } from '@sinclair/typebox';

export const Param = Type.Object({
  name: Type.String(),
  value: Type.String(),
  default: Type.String(),
  meaning: Type.String(),
  kind: Type.String(),
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
  choices: Type.Optional(Type.Array(Type.String())),
});

export const ParamByName = Type.Object({ name: Type.String({ maxLength: 128 }) });
export const ParamValue = Type.Object(
  { value: Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()]) },
  { additionalProperties: false },
);

// The directory sync on demand: dryRun only says what would change.
import { Type } from '@sinclair/typebox';

export const SyncOptions = Type.Optional(Type.Object({ dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }));

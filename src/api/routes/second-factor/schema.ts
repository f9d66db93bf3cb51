// The TOTP second factor: enrolment, the login's second step, and the administrator's switches.
import { Type } from '@sinclair/typebox';

export const Enrolment = Type.Object({ otpauthUrl: Type.String(), secret: Type.String(), qrDataUrl: Type.String() });
/** A TOTP code or a recovery code. */
export const TotpCode = Type.String({ minLength: 6, maxLength: 32 });
const Ticket = Type.String({ minLength: 10, maxLength: 100 });

export const TicketCode = Type.Object({ ticket: Ticket, code: TotpCode }, { additionalProperties: false });
export const TicketOnly = Type.Object({ ticket: Ticket }, { additionalProperties: false });
export const CodeOnly = Type.Object({ code: TotpCode }, { additionalProperties: false });
export const MySecondFactor = Type.Object({ enrolled: Type.Boolean(), required: Type.Boolean(), recoveryCodesLeft: Type.Integer() });
export const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String()) });
export const RequiredIn = Type.Object({ required: Type.Boolean() }, { additionalProperties: false });
export const ApproversRequired = Type.Object({ required: Type.Boolean() });
export const GroupRequired = Type.Object({ group: Type.String(), required: Type.Boolean() });
export const SecondFactorUser = Type.Object({ username: Type.String() });
export const SecondFactorGroup = Type.Object({ name: Type.String() });

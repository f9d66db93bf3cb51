// System parameters: dotted names, defaults and validation from DESIGN.md. Stored in the database.
import { GatehouseError } from './errors.js';

type Kind = 'string' | 'boolean' | 'integer';

export interface ParamDef {
  name: string;
  kind: Kind;
  default: string;
  min?: number;
  max?: number;
  /** For strings: the only values allowed. */
  choices?: string[];
  meaning: string;
}

const defs: ParamDef[] = [
  { name: 'instance.name', kind: 'string', default: 'Gatehouse', meaning: 'Used in email subjects and pages.' },
  {
    name: 'auto.approve.when.requester.is.approver',
    kind: 'boolean',
    default: 'false',
    meaning:
      'When the requester is an eligible approver, the request is created approved (recorded as auto-approved). Not while approval.decision.requires.passkey is on.',
  },
  {
    name: 'approval.status.change.to.expire',
    kind: 'integer',
    default: '30',
    min: 0,
    max: 525600,
    meaning: 'Minutes a request may wait; then Waiting becomes Expired (0 = never).',
  },
  {
    name: 'approval.validity.minutes',
    kind: 'integer',
    default: '60',
    min: 1,
    max: 525600,
    meaning: 'Grant window in minutes, counted from approval (a reservation carries its own window).',
  },
  {
    name: 'approval.grant.scope',
    kind: 'string',
    default: 'protocol',
    choices: ['protocol', 'account'],
    meaning:
      'What one approved request grants: protocol = only the protocol asked for; account = every protocol the access rules allow on that device account (an SSH approval also covers SFTP), for the same window. Revoking it ends them all.',
  },
  {
    name: 'approval.attempt.reuse.seconds',
    kind: 'integer',
    default: '300',
    min: 0,
    max: 86400,
    meaning: 'Repeat attempts reuse the waiting request; approvers get a reminder at most this often.',
  },
  {
    name: 'approval.reason.min.length',
    kind: 'integer',
    default: '5',
    min: 1,
    max: 1000,
    meaning: 'Minimum length of a reason, when a reason is required.',
  },
  {
    name: 'approval.reject.comment.required',
    kind: 'boolean',
    default: 'false',
    meaning: 'Rejecting a request needs a comment (the requester reads why).',
  },
  {
    name: 'approval.decision.requires.passkey',
    kind: 'boolean',
    default: 'false',
    meaning:
      'Every decision (approve, reject, revoke, escalate, delegate) needs a fresh passkey confirmation made for it; API tokens, the CLI, email replies and SSH are refused.',
  },
  ...(['ssh', 'sftp', 'rdp', 'http', 'postgres', 'mysql'] as const).map((p): ParamDef => ({
    name: `disable.instant.approval.for.${p}`,
    kind: 'boolean',
    default: 'false',
    meaning: `Only reservations (requests made ahead, with a window) for ${p.toUpperCase()}; no instant approval.`,
  })),
  {
    name: 'approval.email.link.requires.login',
    kind: 'boolean',
    default: 'false',
    meaning: 'Email approve/reject links need a console login before deciding.',
  },
  {
    name: 'login.password.enabled',
    kind: 'boolean',
    default: 'true',
    meaning: 'Console login with a password. When false, only single sign-on works, except for the break-glass account below.',
  },
  {
    name: 'login.password.break.glass.user',
    kind: 'string',
    default: 'admin',
    meaning: 'The one account that may still log in to the console with a password when login.password.enabled is false.',
  },
  {
    name: 'http.proxy.approval.required.message',
    kind: 'string',
    default: 'Access to {device} needs approval.',
    meaning: 'HTTP proxy: heading when a device needs approval ({device} is replaced).',
  },
  {
    name: 'http.proxy.waiting.manager.message',
    kind: 'string',
    default: 'Waiting for approval #{id} from {approvers}',
    meaning: 'HTTP proxy: heading of the waiting page ({id}, {approvers} and {device} are replaced).',
  },
  {
    name: 'http.proxy.approval.rejected.message',
    kind: 'string',
    default: 'Your request for access to {device} was rejected.',
    meaning: "HTTP proxy: text shown when the request is rejected ({device} and {id} are replaced); the approver's comment follows.",
  },
  {
    name: 'ssh.upstream.sessions.per.connection',
    kind: 'integer',
    default: '10',
    min: 1,
    max: 64,
    meaning:
      "SSH sessions of the same user, device account and approval that may share one SSH connection to the device, each as its own channel (1 = a connection per session). Keep it at or below the device's sshd MaxSessions (10 by default).",
  },
  {
    name: 'ssh.login.method',
    kind: 'string',
    default: 'key-or-password',
    choices: ['key-or-password', 'sso'],
    meaning:
      'How users log in over SSH: key-or-password, or sso (the prompt prints a console link to sign in through). A user group may set its own; a user with neither a key nor a password always gets the link.',
  },
  {
    name: 'recording.enabled',
    kind: 'boolean',
    default: 'true',
    meaning: 'Record SSH sessions that have a terminal (PTY) in asciicast v2.',
  },
  {
    name: 'recording.input',
    kind: 'boolean',
    default: 'false',
    meaning: 'Also record what the user types (passwords typed into the device would be recorded too).',
  },
  {
    name: 'recording.db.parameters',
    kind: 'boolean',
    default: 'false',
    meaning: 'Record the parameter values of database statements (prepared statements); by default they are redacted.',
  },
  {
    name: 'recording.retention.days',
    kind: 'integer',
    default: '90',
    min: 0,
    max: 36500,
    meaning: 'Days recordings are kept before they are deleted (0 = keep forever).',
  },
  {
    name: 'recording.on.failure',
    kind: 'string',
    default: 'continue',
    choices: ['continue', 'terminate'],
    meaning:
      'When a recording cannot be written (disk full): continue the session unrecorded, or terminate it. Either way the audit log records it.',
  },
];

export const PARAM_DEFS: readonly ParamDef[] = defs;
const byName = new Map(defs.map((d) => [d.name, d]));

export function paramDef(name: string): ParamDef {
  const d = byName.get(name);
  if (!d) throw new GatehouseError('not_found', `unknown parameter '${name}'. See 'gatehouse params list'.`, 'name');
  return d;
}

/** Validates and normalises a value for a parameter; throws a clear 'invalid' error otherwise. */
export function normaliseParam(name: string, raw: string): string {
  const d = paramDef(name);
  const v = raw.trim();
  switch (d.kind) {
    case 'boolean': {
      const l = v.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(l)) return 'true';
      if (['false', '0', 'no', 'off'].includes(l)) return 'false';
      throw new GatehouseError('invalid', `${name} must be true or false (got '${raw}')`, 'value');
    }
    case 'integer': {
      if (!/^-?\d+$/.test(v)) throw new GatehouseError('invalid', `${name} must be a whole number (got '${raw}')`, 'value');
      const n = Number(v);
      if ((d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max))
        throw new GatehouseError('invalid', `${name} must be between ${d.min} and ${d.max} (got ${n})`, 'value');
      return String(n);
    }
    default:
      if (d.choices && !d.choices.includes(v))
        throw new GatehouseError('invalid', `${name} must be one of ${d.choices.join(', ')} (got '${raw}')`, 'value');
      if (v.length === 0 || v.length > 200) throw new GatehouseError('invalid', `${name} must be 1-200 characters`, 'value');
      if (/[\r\n\0]/.test(v)) throw new GatehouseError('invalid', `${name} must be one line`, 'value');
      return v;
  }
}

/** Typed view over stored values, defaults filled in. */
export class Params {
  constructor(private readonly values: ReadonlyMap<string, string>) {}
  raw(name: string): string {
    return this.values.get(name) ?? paramDef(name).default;
  }
  str(name: string): string {
    return this.raw(name);
  }
  bool(name: string): boolean {
    return this.raw(name) === 'true';
  }
  int(name: string): number {
    return Number(this.raw(name));
  }
  all(): { name: string; value: string; default: string; meaning: string; kind: string }[] {
    return defs.map((d) => ({ name: d.name, value: this.raw(d.name), default: d.default, meaning: d.meaning, kind: d.kind }));
  }
}

// The login's second step. After a right password, a user who needs a second factor gets a ticket
// (202 {secondFactor: 'required' | 'enrol', ticket}) instead of a session; POST /session/second-factor
// {ticket, code} then creates it. A ticket is good for 5 minutes and 5 tries, for the address that got it.
// Tickets are rows (by hash), so the code step may land on another worker process or node.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../../core/types.js';
import { directoryOf } from '../../../directory/index.js';
import type { Services } from '../../../services.js';

const TICKET_MS = 5 * 60_000;
const TICKET_TRIES = 5;

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

export interface Ticket {
  ticket: string;
  /** The user has a passkey or a TOTP enrolled (else: enrol a TOTP first). */
  enrolled: boolean;
  passkey: boolean;
  totp: boolean;
}

/** A second-factor ticket when the user needs one (a group rule, or an enrolled passkey); null when not. */
export async function issueTicket(s: Services, user: User, req: FastifyRequest, method: 'password' | 'sso'): Promise<Ticket | null> {
  // An enrolled passkey is a second factor like the TOTP: once a user has one, the login asks for it.
  const passkey = await s.passkeys.has(user.id);
  if (!passkey && !(await s.auth.secondFactorRequired(user))) return null;
  const now = s.clock.now();
  const ticket = randomBytes(24).toString('base64url');
  await s.loginTickets.issue(hashOf(ticket), { userId: user.id, addr: req.ip, expiresAt: now + TICKET_MS, tries: 0 }, now);
  const totp = await directoryOf(s).totp.enrolled(user.id);
  await s.audit({
    actor: user.username,
    actorId: user.id,
    channel: 'web',
    action: 'auth.login.second-factor-asked',
    details: { address: req.ip, enrolled: totp || passkey, method },
  });
  return { ticket, enrolled: totp || passkey, passkey, totp };
}

/**
 * The hook in POST /session: after a right password, when the user needs a second factor, answers
 * 202 with a ticket instead of creating a session. Returns null when no second factor is needed.
 */
export async function secondFactorStep(s: Services, user: User, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | null> {
  const t = await issueTicket(s, user, req, 'password');
  if (!t) return null;
  return reply.status(202).send({ secondFactor: t.enrolled ? 'required' : 'enrol', ticket: t.ticket, passkey: t.passkey, totp: t.totp });
}

/** A live ticket for this client, or null. Reading it spends no try (the enrolment QR code, passkey options). */
export async function ticketOf(s: Services, ticket: string, req: FastifyRequest): Promise<{ user: User } | null> {
  if (typeof ticket !== 'string' || ticket.length > 100) return null;
  const p = await s.loginTickets.find(hashOf(ticket), s.clock.now());
  if (!p || p.addr !== req.ip || p.tries >= TICKET_TRIES) return null;
  const user = (await s.policy.current()).usersById.get(p.userId);
  return user && !user.disabled ? { user } : null;
}

/** A live ticket with one of its tries spent (one conditional update, so parallel attempts cannot exceed them); null when none is left. */
export async function ticketTry(s: Services, ticket: string, req: FastifyRequest): Promise<{ user: User } | null> {
  const t = await ticketOf(s, ticket, req);
  if (!t || !(await s.loginTickets.spendTry(hashOf(ticket), req.ip, s.clock.now(), TICKET_TRIES))) return null;
  return t;
}

/** Uses the ticket up: true for exactly one caller, so one ticket makes one session. */
export const useTicket = (s: Services, ticket: string): Promise<boolean> => s.loginTickets.remove(hashOf(ticket));

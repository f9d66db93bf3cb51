// POST of a mail link's form: signs the approver in when the link needs it, checks the second factor
// when deciding needs it, claims the link (single use) and decides through the approval engine.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FactorProof } from '../../../core/approvals/approver.js';
import { GatehouseError } from '../../../core/errors.js';
import { waitWords, type Refusal } from '../../../core/limiter.js';
import type { User } from '../../../core/types.js';
import type { Services } from '../../../services.js';
import type { ApiStore } from '../../store.js';
import { consoleUserId, factorProof, missingFactor } from './factor.js';
import type { LinkTokens, TokenRow } from './links.js';
import { APPROVER_GONE, SIGN_IN_FAILED, h, send, sendStale } from './page.js';
import { staleness } from './view.js';
import { passwordOff } from '../sso/email-link.js';

type Body = Record<string, string>;
type LinkRequest = FastifyRequest<{ Params: { token: string }; Body: Body | undefined }>;
type Attempt = { succeeded(): Promise<void> };

/** Claims the link and decides; a failure not the approver's gives the link back. */
async function decide(
  s: Services,
  links: LinkTokens,
  reply: FastifyReply,
  t: TokenRow,
  approver: User,
  body: Body,
  { proof, passkey }: { proof: FactorProof; passkey?: unknown },
) {
  const now = Date.now();
  if (!(await links.claim(t, now))) return sendStale(reply, 410, 'used');
  const comment = typeof body.comment === 'string' ? body.comment : null;
  try {
    const how = { comment, channel: 'email-link' as const, proof, passkey };
    const out =
      t.action === 'approve'
        ? await s.approvals.approve(t.request_id, approver.username, how)
        : await s.approvals.reject(t.request_id, approver.username, how);
    await links.killSiblings(t, now);
    const what =
      out.status === 'waiting'
        ? `Your approval was recorded; request #${out.id} now waits for ${out.currentLevel !== t.level ? 'the next level' : 'more approvals'}.`
        : `Request #${out.id} is now ${h(out.status)}.`;
    return send(reply, 200, t.action === 'approve' ? 'Approved' : 'Rejected', `<p>${what}</p>`);
  } catch (err) {
    // A refused passkey decided nothing: the link stays usable for a fresh confirmation.
    if (err instanceof GatehouseError && err.code === 'passkey_required') await links.release(t).catch(() => {});
    if (err instanceof GatehouseError)
      return send(
        reply,
        err.code === 'forbidden' || err.code === 'self_approval' || err.code === 'second_factor_required' || err.code === 'passkey_required'
          ? 403
          : 409,
        'Not decided',
        `<p>${h(err.message)}. Nothing was changed.</p>`,
      );
    // Something broke (database down…): give the link back so the approver can retry.
    await links.release(t).catch(() => {});
    s.log.error({ err: String(err) }, 'email link decision failed');
    return send(
      reply,
      503,
      'Try again',
      '<p>Gatehouse could not record the decision just now. Nothing was changed; try the link again in a minute.</p>',
    );
  }
}

export function decideLink(s: Services, sessions: ApiStore, links: LinkTokens) {
  /** A sign-in the limiter refused, unchecked: past the link's own limit the link dies. */
  async function linkRefused(req: FastifyRequest, reply: FastifyReply, t: TokenRow, r: Refusal, username: string) {
    if (r.first)
      await s.audit({
        actor: username.slice(0, 64) || 'unknown',
        channel: 'email-link',
        action: 'auth.login-blocked',
        targetType: 'approval',
        targetId: t.request_id,
        details: { address: req.ip, scope: r.scope },
      });
    reply.header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)));
    if (r.scope === 'link') {
      await links.kill(t);
      return send(
        reply,
        429,
        'Link disabled',
        '<p>Too many wrong passwords: this link no longer works. Nothing was changed; decide in the console or by replying to the mail.</p>',
      );
    }
    return send(
      reply,
      429,
      'Too many sign-ins',
      `<p>Too many failed sign-ins: try again in ${waitWords(r.retryAfterMs)}. Nothing was changed.</p>`,
    );
  }

  /** With approval.email.link.requires.login: the approver's console session, or their password on the form. */
  async function signIn(
    req: LinkRequest,
    reply: FastifyReply,
    t: TokenRow,
    approver: User,
    body: Body,
  ): Promise<{ done: unknown } | { attempt?: Attempt }> {
    if (!(await s.params.params()).bool('approval.email.link.requires.login')) return {};
    const signedIn = await consoleUserId(s, sessions, req);
    if (signedIn !== null && signedIn !== t.approver_id) return { done: sendStale(reply, 403, 'foreign') };
    if (signedIn !== null) return {};
    // A missing code is answered before the password is checked, so that answer says nothing about the password.
    const early = (await passwordOff(s, body.username)) ?? (await missingFactor(s, sessions, req, approver, body));
    if (early) return { done: send(reply, early.status, early.title, early.html) };
    const username = String(body.username ?? '').slice(0, 200);
    // Reserved per address, link and user before the password is checked, on every node.
    const attempt = await s.limiter.reserve({ kind: 'password', user: username || null, addr: req.ip, link: t.token_hash });
    if (!attempt.ok) return { done: linkRefused(req, reply, t, attempt, username) };
    const who = await s.auth.verifyPassword(username, String(body.password ?? ''));
    // Someone else's right password gets the wrong password's answer: the form is no password oracle.
    if (!who || who.id !== t.approver_id) {
      await s.audit({
        actor: username.slice(0, 64) || 'unknown',
        channel: 'email-link',
        action: 'auth.login-failed',
        targetType: 'approval',
        targetId: t.request_id,
        details: { address: req.ip, via: 'email link', ...(who ? { notTheApprover: true } : {}) },
      });
      return { done: send(reply, 401, 'Sign-in failed', SIGN_IN_FAILED) };
    }
    return { attempt };
  }

  return async (req: LinkRequest, reply: FastifyReply) => {
    const t = await links.lookup(req.params.token);
    if (!t) return sendStale(reply, 404, 'unknown');
    const r = await s.approvals.get(t.request_id);
    const stale = staleness(t, r);
    if (stale) return send(reply, 410, stale[0], `<p>${stale[1]}</p>`);
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    const approver = (await s.policy.current()).usersById.get(t.approver_id);
    if (!approver || approver.disabled) return send(reply, 403, 'Not allowed', APPROVER_GONE);
    const signed = await signIn(req, reply, t, approver, body);
    if ('done' in signed) return signed.done;
    // The approver's second factor, when deciding needs it: a code on this form (or their console session's).
    const factor = await factorProof(s, sessions, req, t, approver, body);
    if (!('proof' in factor)) {
      if (factor.killLink) await links.kill(t);
      // After a password on this form, a wrong code reads exactly like a wrong password (no password oracle).
      if (signed.attempt && factor.status === 401) return send(reply, 401, 'Sign-in failed', SIGN_IN_FAILED);
      return send(reply, factor.status, factor.title, factor.html);
    }
    await signed.attempt?.succeeded();
    return decide(s, links, reply, t, approver, body, factor);
  };
}

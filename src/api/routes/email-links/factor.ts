// The second factor on the email link's confirm page. When the approver must prove one to decide, the
// page asks for the TOTP (or a recovery) code and the POST verifies it, counted by the shared login
// limiter; a console session of the approver that proved the factor counts too. The approval engine
// checks the resulting proof again, so a page that forgot to ask could still not decide. A passkey counts
// as the factor (an assertion made for this link's action and request); with approval.decision.requires.passkey
// on, the page always asks for one, and the engine verifies it.
import type { FastifyRequest } from 'fastify';
import type { FactorProof } from '../../../core/approvals/approver.js';
import { GatehouseError } from '../../../core/errors.js';
import { waitWords } from '../../../core/limiter.js';
import { PASSKEY_PARAM } from '../../../core/passkeys.js';
import type { User } from '../../../core/types.js';
import { directoryOf } from '../../../directory/index.js';
import type { Services } from '../../../services.js';
import { cookies, SESSION_COOKIE } from '../../auth.js';
import type { ApiStore } from '../../store.js';
import type { TokenRow } from './links.js';
import { h } from './page.js';
import { linkScope, passkeyField, passkeyOf } from './passkey.js';

export interface LinkRefusal {
  status: 401 | 403 | 429;
  title: string;
  html: string;
  /** Past the link's own limit: the link dies. */
  killLink?: boolean;
}

const NOT_ENROLLED: LinkRefusal = {
  status: 403,
  title: 'Second factor needed',
  html: '<p>Deciding needs your second factor, which is not set up yet: <a href="/">sign in to the console</a> to set it up, then use this link again. Nothing was changed.</p>',
};

const NO_PASSKEY: LinkRefusal = {
  status: 403,
  title: 'Passkey needed',
  html: `<p>Every decision needs a passkey (${h(PASSKEY_PARAM)}), and you have none yet: <a href="/">sign in to the console</a> to enrol one (Passkeys), then use this link again. Nothing was changed.</p>`,
};

const NO_ASSERTION: LinkRefusal = {
  status: 403,
  title: 'Passkey needed',
  html: '<p>Deciding needs your passkey: go back and press the button again (your browser asks for the passkey). Nothing was changed.</p>',
};

/** How this link's decision proves the approver: 'passkey' (the page asks for one), 'code', or a refusal. */
async function howToProve(
  s: Services,
  sessions: ApiStore,
  req: FastifyRequest,
  approver: User,
): Promise<'passkey' | 'code' | null | LinkRefusal> {
  const hasPasskey = await s.passkeys.has(approver.id);
  if ((await s.params.params()).bool(PASSKEY_PARAM)) return hasPasskey ? 'passkey' : NO_PASSKEY;
  if (!(await s.approvals.factorRequiredToDecide(approver)) || (await consoleProved(s, sessions, req, approver))) return null;
  if (hasPasskey) return 'passkey';
  return (await directoryOf(s).totp.enrolled(approver.id)) ? 'code' : NOT_ENROLLED;
}

/** The user signed in to the console in this browser, if any. */
export async function consoleUserId(s: Services, sessions: ApiStore, req: FastifyRequest): Promise<number | null> {
  const token = cookies(req)[SESSION_COOKIE];
  if (!token || token.length > 200) return null;
  return (await sessions.findSession(token, s.clock.now()).catch(() => undefined))?.userId ?? null;
}

/** Did this browser's console session belong to `user` and prove the second factor? */
async function consoleProved(s: Services, sessions: ApiStore, req: FastifyRequest, user: User): Promise<boolean> {
  const token = cookies(req)[SESSION_COOKIE];
  if (!token || token.length > 200) return false;
  const sess = await sessions.findSession(token, s.clock.now()).catch(() => undefined);
  return !!sess && sess.userId === user.id && sess.secondFactor;
}

/** The code field of the confirm form ('' when none is needed), or why this link cannot decide now. */
export async function factorField(
  s: Services,
  sessions: ApiStore,
  req: FastifyRequest<{ Params: { token: string } }>,
  approver: User,
): Promise<{ html: string; passkey?: true } | LinkRefusal> {
  const how = await howToProve(s, sessions, req, approver);
  if (how === null) return { html: '' };
  if (how === 'passkey') return { html: passkeyField(req.params.token), passkey: true };
  if (how !== 'code') return how;
  return {
    html: '<label>Code from your authenticator app (or a recovery code)<input name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="32"></label>',
  };
}

const NO_CODE: LinkRefusal = {
  status: 403,
  title: 'Second factor needed',
  html: '<p>Deciding needs the code from your authenticator app: go back, enter it and try again. Nothing was changed.</p>',
};

/** The refusal for a POST that cannot prove the factor whatever else it carries (no code, not enrolled), or null. */
export async function missingFactor(
  s: Services,
  sessions: ApiStore,
  req: FastifyRequest,
  approver: User,
  body: Record<string, unknown>,
): Promise<LinkRefusal | null> {
  const how = await howToProve(s, sessions, req, approver);
  if (how === null) return null;
  if (how === 'passkey') return passkeyOf(body) === undefined ? NO_ASSERTION : null;
  if (how !== 'code') return how;
  return typeof body.code === 'string' && body.code.trim() ? null : NO_CODE;
}

/**
 * The proof this POST carries to the engine (with the assertion, when the parameter makes the engine
 * verify it), or the page that refuses it (nothing decided).
 */
export async function factorProof(
  s: Services,
  sessions: ApiStore,
  req: FastifyRequest,
  t: TokenRow,
  approver: User,
  body: Record<string, unknown>,
): Promise<{ proof: FactorProof; passkey?: unknown } | LinkRefusal> {
  const linkHash = t.token_hash;
  const how = await howToProve(s, sessions, req, approver);
  if (how === null) return { proof: (await consoleProved(s, sessions, req, approver)) ? 'factor' : 'none' };
  if (how === 'passkey') {
    const passkey = passkeyOf(body);
    if (passkey === undefined) return NO_ASSERTION;
    // The engine verifies it (and counts it as the factor) when the parameter is on; else it is checked here.
    if ((await s.params.params()).bool(PASSKEY_PARAM)) return { proof: 'none', passkey };
    try {
      await s.passkeys.verify(approver, 'decide', linkScope(t), passkey, 'the passkey did not confirm this decision');
    } catch (err) {
      if (!(err instanceof GatehouseError)) throw err;
      return { status: 401, title: 'Passkey not accepted', html: `<p>${h(err.message)}. Go back and try again. Nothing was changed.</p>` };
    }
    return { proof: 'factor' };
  }
  if (how !== 'code') return how;
  const code = typeof body.code === 'string' ? body.code.trim() : '';
  if (!code) return NO_CODE;
  // Reserved per user, address and link before the code is checked, on every node.
  const attempt = await s.limiter.reserve({ kind: 'code', user: approver.username, addr: req.ip, link: linkHash });
  if (!attempt.ok) {
    if (attempt.first)
      await s.audit({
        actor: approver.username,
        actorId: approver.id,
        channel: 'email-link',
        action: 'auth.login-blocked',
        details: { address: req.ip, scope: attempt.scope, kind: 'code' },
      });
    if (attempt.scope === 'link')
      return {
        status: 429,
        title: 'Link disabled',
        html: '<p>Too many wrong codes: this link no longer works. Nothing was changed; decide in the console.</p>',
        killLink: true,
      };
    return {
      status: 429,
      title: 'Too many codes',
      html: `<p>Too many wrong codes: try again in ${waitWords(attempt.retryAfterMs)}. Nothing was changed.</p>`,
    };
  }
  if (!(await s.auth.verifyTotp(approver, code))) {
    await s.audit({
      actor: approver.username,
      actorId: approver.id,
      channel: 'email-link',
      action: 'auth.second-factor-failed',
      details: { address: req.ip, via: 'email link' },
    });
    return {
      status: 401,
      title: 'Wrong code',
      html: '<p>The code was not right (each code works once). Go back and try the next one. Nothing was changed.</p>',
    };
  }
  await attempt.succeeded();
  return { proof: 'factor' };
}

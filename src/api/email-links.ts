// The pages behind the Approve / Reject links in approval mail. GET only shows what would be decided
// (mail scanners fetch links, so a GET never changes anything); the POST from that page decides.
// With approval.email.link.requires.login = true the decision needs the approver's console login: a
// console session cookie of that approver, or the approver's username and password on the form.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../core/errors.js';
import { waitWords, type Refusal } from '../core/limiter.js';
import type { ApprovalRequest } from '../core/types.js';
import { escapeHtml } from '../notify/templates.js';
import { hashToken } from '../notify/tokens.js';
import type { Services } from '../services.js';
import { cookies, SESSION_COOKIE } from './auth.js';
import { factorField, factorProof, missingFactor } from './email-link-factor.js';

type TokenRow = { token_hash: string; request_id: number; approver_id: number; action: 'approve' | 'reject'; level: number; used_at: number | null; dead_at: number | null };

const TOKEN = /^[A-Za-z0-9_-]{20,64}$/;
const SIGN_IN_FAILED = '<p>Wrong username, password or code. Go back and try again. Nothing was changed.</p>';
const h = (v: unknown) => escapeHtml(String(v ?? '-').replace(/[\u0000-\u001f\u007f]/g, ' '));

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><title>${h(title)}</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}th{text-align:left;padding-right:1rem}
textarea,input{width:100%;box-sizing:border-box;margin:.25rem 0 .75rem}button{padding:.5rem 1.2rem;font-size:1rem}
.approve{background:#1a7f37;color:#fff;border:0}.reject{background:#b42318;color:#fff;border:0}.note{color:#555}</style></head>
<body><h1>${h(title)}</h1>${body}</body></html>`;
}

function send(reply: FastifyReply, status: number, title: string, body: string) {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .send(page(title, body));
}

const STALE = {
  unknown: ['Link not valid', 'This link is not valid here. It may be mistyped or belong to another system. Nothing was changed.'],
  used: ['Link already used', 'This link was already used; each link works once. Nothing was changed.'],
  foreign: ['Link for another approver', 'This link was sent to another approver. Nothing was changed.'],
} as const;

export async function registerEmailLinks(app: FastifyInstance, s: Services): Promise<void> {
  const sessions = s.apiStore;

  /** The user signed in to the console in this browser, if any. */
  async function consoleUserId(req: FastifyRequest): Promise<number | null> {
    const token = cookies(req)[SESSION_COOKIE];
    if (!token || token.length > 200) return null;
    return (await sessions.findSession(token, s.clock.now()).catch(() => undefined))?.userId ?? null;
  }

  /** A sign-in the limiter refused, unchecked: past the link's own limit the link dies. */
  async function linkRefused(req: FastifyRequest, reply: FastifyReply, t: TokenRow, r: Refusal, username: string) {
    if (r.first) await s.audit({ actor: username.slice(0, 64) || 'unknown', channel: 'email-link', action: 'auth.login-blocked', targetType: 'approval', targetId: t.request_id, details: { address: req.ip, scope: r.scope } });
    reply.header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)));
    if (r.scope === 'link') {
      await s.mail.killLink(t.token_hash, Date.now());
      return send(reply, 429, 'Link disabled', '<p>Too many wrong passwords: this link no longer works. Nothing was changed; decide in the console or by replying to the mail.</p>');
    }
    return send(reply, 429, 'Too many sign-ins', `<p>Too many failed sign-ins: try again in ${waitWords(r.retryAfterMs)}. Nothing was changed.</p>`);
  }

  async function lookup(token: string): Promise<TokenRow | undefined> {
    if (!TOKEN.test(token)) return undefined;
    return s.mail.linkToken(hashToken(token));
  }

  /** Why this token cannot decide now, or null when it can. */
  function staleness(t: TokenRow, r: ApprovalRequest | undefined): [string, string] | null {
    if (!r) return [...STALE.unknown];
    if (t.used_at !== null) return [...STALE.used];
    if (r.status !== 'waiting') return [`Request #${r.id} is ${r.status}`, `This request is ${h(r.status)} and can no longer be decided. Nothing was changed.`];
    if (t.dead_at !== null || t.level !== r.currentLevel)
      return ['Link no longer valid', `This link was for level ${t.level + 1} of request #${r.id}, which has been decided. Nothing was changed.`];
    return null;
  }

  async function details(r: ApprovalRequest): Promise<string> {
    const p = await s.policy.current();
    const u = p.usersById.get(r.requesterId);
    const acct = (p.accountsOfDevice.get(r.deviceId) ?? []).find((a) => a.id === r.accountId);
    const iso = (t: number | null) => (t ? new Date(t).toISOString() : 'never');
    const rows: [string, unknown][] = [
      ['Requester', `${u?.displayName ?? ''} (${u?.username ?? '#' + r.requesterId}, ${u?.email ?? '-'})`],
      ['Device', p.devicesById.get(r.deviceId)?.name ?? `#${r.deviceId}`],
      ['Account', acct?.name ?? `#${r.accountId}`],
      ['Protocol', r.protocol],
      ['Client', r.clientAddr],
      ['Reason', r.reason],
      ['Requested', iso(r.createdAt)],
      ['Expires', iso(r.expiresAt)],
      ['Level', `${r.currentLevel + 1} of ${r.route.levels.length}`],
    ];
    return `<table>${rows.map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</table>`;
  }

  await app.register(async (sub) => {
    if (!sub.hasContentTypeParser('application/x-www-form-urlencoded'))
      sub.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });

    sub.get<{ Params: { token: string } }>('/email/approval/:token', async (req, reply) => {
      const t = await lookup(req.params.token);
      if (!t) return send(reply, 404, STALE.unknown[0], `<p>${STALE.unknown[1]}</p>`);
      const r = await s.approvals.get(t.request_id);
      const stale = staleness(t, r);
      if (stale) return send(reply, 410, stale[0], `<p>${stale[1]}</p>`);
      const params = await s.params.params();
      const login = params.bool('approval.email.link.requires.login');
      const verb = t.action === 'approve' ? 'Approve' : 'Reject';
      const approver = (await s.policy.current()).usersById.get(t.approver_id);
      const signedIn = login ? await consoleUserId(req) : null;
      if (login && signedIn !== null && signedIn !== t.approver_id) return send(reply, 403, STALE.foreign[0], `<p>${STALE.foreign[1]}</p>`);
      const loginFields = !login
        ? ''
        : signedIn === t.approver_id
          ? `<p class="note">Signed in to the console as ${h(approver?.username)}.</p>`
          : `<p class="note">Sign in to confirm (your console username and password), or <a href="/">sign in to the console</a> and open this link again.</p><label>Username<input name="username" autocomplete="username" required value="${h(approver?.username ?? '')}"></label><label>Password<input name="password" type="password" autocomplete="current-password" required></label>`;
      if (!approver || approver.disabled) return send(reply, 403, 'Not allowed', '<p>The approver this link was sent to can no longer decide. Nothing was changed.</p>');
      const factor = await factorField(s, sessions, req, approver);
      if ('status' in factor) return send(reply, factor.status, factor.title, factor.html);
      const form = `<form method="post" action="/email/approval/${h(req.params.token)}">
${loginFields}
${factor.html}
<label>Comment (optional)<textarea name="comment" rows="3" maxlength="1000"></textarea></label>
<button type="submit" class="${t.action}">${verb} request #${r!.id}</button></form>`;
      return send(reply, 200, `${verb} request #${r!.id}?`, `<p>${h(params.str('instance.name'))}: ${h(approver?.displayName ?? '')}, you are about to <strong>${t.action}</strong> this connection.</p>${await details(r!)}${form}<p class="note">Nothing changes until you press the button.</p>`);
    });

    sub.post<{ Params: { token: string }; Body: Record<string, string> | undefined }>('/email/approval/:token', async (req, reply) => {
      const t = await lookup(req.params.token);
      if (!t) return send(reply, 404, STALE.unknown[0], `<p>${STALE.unknown[1]}</p>`);
      const r = await s.approvals.get(t.request_id);
      const stale = staleness(t, r);
      if (stale) return send(reply, 410, stale[0], `<p>${stale[1]}</p>`);
      const body = req.body && typeof req.body === 'object' ? req.body : {};
      const policy = await s.policy.current();
      const approver = policy.usersById.get(t.approver_id);
      if (!approver || approver.disabled) return send(reply, 403, 'Not allowed', '<p>The approver this link was sent to can no longer decide. Nothing was changed.</p>');
      let passwordAttempt: { succeeded(): Promise<void> } | undefined;
      if ((await s.params.params()).bool('approval.email.link.requires.login')) {
        const signedIn = await consoleUserId(req);
        if (signedIn !== null && signedIn !== t.approver_id) return send(reply, 403, STALE.foreign[0], `<p>${STALE.foreign[1]}</p>`);
        if (signedIn === null) {
          // A missing code is answered before the password is checked, so that answer says nothing about the password.
          const early = await missingFactor(s, sessions, req, approver, body);
          if (early) return send(reply, early.status, early.title, early.html);
          const username = String(body.username ?? '').slice(0, 200);
          // Reserved per address, link and user before the password is checked, on every node.
          const attempt = await s.limiter.reserve({ kind: 'password', user: username || null, addr: req.ip, link: t.token_hash });
          if (!attempt.ok) return linkRefused(req, reply, t, attempt, username);
          const who = await s.auth.verifyPassword(username, String(body.password ?? ''));
          // Someone else's right password gets the wrong password's answer: the form is no password oracle.
          if (!who || who.id !== t.approver_id) {
            await s.audit({ actor: username.slice(0, 64) || 'unknown', channel: 'email-link', action: 'auth.login-failed', targetType: 'approval', targetId: t.request_id, details: { address: req.ip, via: 'email link', ...(who ? { notTheApprover: true } : {}) } });
            return send(reply, 401, 'Sign-in failed', SIGN_IN_FAILED);
          }
          passwordAttempt = attempt;
        }
      }
      // The approver's second factor, when deciding needs it: a code on this form (or their console session's).
      const factor = await factorProof(s, sessions, req, t.token_hash, approver, body);
      if (!('proof' in factor)) {
        if (factor.killLink) await s.mail.killLink(t.token_hash, Date.now());
        // After a password on this form, a wrong code reads exactly like a wrong password (no password oracle).
        if (passwordAttempt && factor.status === 401) return send(reply, 401, 'Sign-in failed', SIGN_IN_FAILED);
        return send(reply, factor.status, factor.title, factor.html);
      }
      await passwordAttempt?.succeeded();
      // Single use: one conditional update claims the token; a second POST finds it used.
      const now = Date.now();
      if (!(await s.mail.useLink(t.token_hash, now))) return send(reply, 410, STALE.used[0], `<p>${STALE.used[1]}</p>`);
      const comment = typeof body.comment === 'string' ? body.comment : null;
      try {
        const out = t.action === 'approve' ? await s.approvals.approve(t.request_id, approver.username, { comment, channel: 'email-link', proof: factor.proof }) : await s.approvals.reject(t.request_id, approver.username, { comment, channel: 'email-link', proof: factor.proof });
        // The other link of this approver for this level dies with this decision.
        await s.mail.killApproverLinks(t.request_id, t.approver_id, t.level, now);
        const what = out.status === 'waiting' ? `Your approval was recorded; request #${out.id} now waits for ${out.currentLevel !== t.level ? 'the next level' : 'more approvals'}.` : `Request #${out.id} is now ${h(out.status)}.`;
        return send(reply, 200, t.action === 'approve' ? 'Approved' : 'Rejected', `<p>${what}</p>`);
      } catch (err) {
        if (err instanceof GatehouseError) return send(reply, err.code === 'forbidden' || err.code === 'self_approval' || err.code === 'second_factor_required' ? 403 : 409, 'Not decided', `<p>${h(err.message)}. Nothing was changed.</p>`);
        // Something broke (database down…): give the link back so the approver can retry.
        await s.mail.unuseLink(t.token_hash).catch(() => {});
        s.log.error({ err: String(err) }, 'email link decision failed');
        return send(reply, 503, 'Try again', '<p>Gatehouse could not record the decision just now. Nothing was changed; try the link again in a minute.</p>');
      }
    });
  });
}

// GET of a mail link: shows what would be decided, and the form that decides it. Mail scanners fetch
// links, so a GET never changes anything.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../../core/types.js';
import type { Services } from '../../../services.js';
import type { ApiStore } from '../../store.js';
import { personName } from '../../../presenters/people.js';
import { consoleUserId, factorField } from './factor.js';
import type { LinkTokens, TokenRow } from './links.js';
import { APPROVER_GONE, h, send, sendStale } from './page.js';
import { requestDetails, staleness } from './view.js';
import { PASSKEY_CSP } from './passkey.js';
import { NO_SSO, ssoChoice, type SsoChoice } from '../sso/email-link.js';

/** The sign-in part of the form, when deciding needs the approver's console login. */
function loginFields(login: boolean, signedIn: number | null, t: TokenRow, approver: User | undefined, sso: SsoChoice): string {
  if (!login) return '';
  if (signedIn === t.approver_id) return `<p class="note">Signed in to the console as ${h(personName(approver))}.</p>`;
  if (sso.html && !sso.password) return sso.html;
  return `${sso.html}<p class="note">Sign in to confirm (your console username and password), or <a href="/">sign in to the console</a> and open this link again.</p><label>Username<input name="username" autocomplete="username" required value="${h(approver?.username ?? '')}"></label><label>Password<input name="password" type="password" autocomplete="current-password" required></label>`;
}

export function showLink(s: Services, sessions: ApiStore, links: LinkTokens) {
  return async (req: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply) => {
    const t = await links.lookup(req.params.token);
    if (!t) return sendStale(reply, 404, 'unknown');
    const r = await s.approvals.get(t.request_id);
    const stale = staleness(t, r, await s.policy.current());
    if (stale) return send(reply, 410, stale[0], `<p>${stale[1]}</p>`);
    const params = await s.params.params();
    const login = params.bool('approval.email.link.requires.login');
    const verb = t.action === 'approve' ? 'Approve' : 'Reject';
    const approver = (await s.policy.current()).usersById.get(t.approver_id);
    const signedIn = login ? await consoleUserId(s, sessions, req) : null;
    if (login && signedIn !== null && signedIn !== t.approver_id) return sendStale(reply, 403, 'foreign');
    const fields = loginFields(login, signedIn, t, approver, login && signedIn === null ? await ssoChoice(s, req.params.token) : NO_SSO);
    if (!approver || approver.disabled) return send(reply, 403, 'Not allowed', APPROVER_GONE);
    const factor = await factorField(s, sessions, req, approver);
    if ('status' in factor) return send(reply, factor.status, factor.title, factor.html);
    const form = `<form method="post" action="/email/approval/${h(req.params.token)}">
${fields}
${factor.html}
<label>Comment (optional)<textarea name="comment" rows="3" maxlength="1000"></textarea></label>
<button type="submit" class="${t.action}">${verb} request #${r!.id}</button></form>`;
    const details = requestDetails(await s.policy.current(), r!);
    return send(
      reply,
      200,
      `${verb} request #${r!.id}?`,
      `<p>${h(params.str('instance.name'))}: ${h(personName(approver))}, you are about to <strong>${t.action}</strong> this connection.</p>${details}${form}<p class="note">Nothing changes until you press the button.</p>`,
      factor.passkey ? PASSKEY_CSP : '',
    );
  };
}

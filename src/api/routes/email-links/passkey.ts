// Passkeys on the email link's confirm page: the options route (a challenge bound to the link's approver,
// action and request), the small script that asks the browser for the assertion and puts it in the form,
// and reading that field back. The page has no other script; its CSP allows only this one, from here.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decisionScope } from '../../../core/passkeys.js';
import { GatehouseError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { LinkTokens, TokenRow } from './links.js';
import { h } from './page.js';
import { staleness } from './view.js';

export const PASSKEY_SCRIPT = '/email/passkey.js';
export const PASSKEY_CSP = "script-src 'self'; connect-src 'self'";

/** The scope of the challenge a link's decision needs: its action on its request. */
export const linkScope = (t: TokenRow) => decisionScope(t.action === 'approve' ? 'approve' : 'reject', t.request_id);

/** The hidden field the script fills, and where it tells what happens. */
export const passkeyField = (token: string) =>
  `<input type="hidden" name="passkey" value=""><p class="note" id="passkey-status" role="status" data-options="/email/approval/${h(token)}/passkey">Pressing the button asks for your passkey.</p><script src="${PASSKEY_SCRIPT}"></script>`;

/** The assertion the form carried (a JSON string), or undefined. */
export function passkeyOf(body: Record<string, unknown>): unknown {
  const raw = body.passkey;
  if (typeof raw !== 'string' || !raw || raw.length > 12_000) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

const SCRIPT = `(() => {
  const status = document.getElementById('passkey-status');
  const form = status && status.closest('form');
  if (!form) return;
  const bin = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
  const b64 = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  let done = false;
  form.addEventListener('submit', async (e) => {
    if (done) return;
    e.preventDefault();
    status.textContent = 'Waiting for your passkey...';
    try {
      const res = await fetch(status.dataset.options, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const o = await res.json();
      if (!res.ok) throw new Error((o.error && o.error.message) || res.statusText);
      const c = await navigator.credentials.get({ publicKey: {
        challenge: bin(o.challenge), rpId: o.rpId, timeout: o.timeout, userVerification: o.userVerification,
        allowCredentials: (o.allowCredentials || []).map((a) => ({ type: 'public-key', id: bin(a.id), transports: a.transports })) } });
      const r = c.response;
      form.elements.passkey.value = JSON.stringify({ id: c.id, rawId: b64(c.rawId), type: c.type, clientExtensionResults: {},
        response: { clientDataJSON: b64(r.clientDataJSON), authenticatorData: b64(r.authenticatorData), signature: b64(r.signature),
          ...(r.userHandle ? { userHandle: b64(r.userHandle) } : {}) } });
      done = true;
      status.textContent = 'Passkey confirmed: sending...';
      form.submit();
    } catch (err) {
      status.textContent = 'The passkey did not confirm (' + (err && err.message ? err.message : err) + '). Nothing was changed; try again.';
    }
  });
})();
`;

export function passkeyScript(_req: FastifyRequest, reply: FastifyReply) {
  return reply
    .header('content-type', 'text/javascript; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .send(SCRIPT);
}

/** POST /email/approval/:token/passkey: options for the link's approver, bound to its action and request. */
export function passkeyOptions(s: Services, links: LinkTokens) {
  return async (req: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply) => {
    const fail = (status: number, message: string) => reply.status(status).send({ error: { code: 'invalid', message } });
    const t = await links.lookup(req.params.token);
    if (!t) return fail(404, 'this link is not valid');
    const stale = staleness(t, await s.approvals.get(t.request_id));
    if (stale) return fail(410, stale[0]);
    const approver = (await s.policy.current()).usersById.get(t.approver_id);
    if (!approver || approver.disabled) return fail(403, 'the approver of this link can no longer decide');
    try {
      return await s.passkeys.assertionOptions(approver, 'decide', linkScope(t));
    } catch (err) {
      if (err instanceof GatehouseError) return fail(403, err.message);
      throw err;
    }
  };
}

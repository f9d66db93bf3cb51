// The pages the proxy itself shows on a device's host: waiting for approval, access ended, not
// available, sign-in problems and upstream errors. Plain HTML, every value escaped, one small inline
// script (allowed by a per-page nonce) for the live wait.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const esc = (v: unknown) =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:36rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}.muted{color:#555}.err{color:#a0141e}button{font:inherit;padding:.4rem 1rem;cursor:pointer}
textarea{width:100%;box-sizing:border-box;font:inherit}label{display:block;margin:.5rem 0 .2rem}`;

export interface Page {
  status: number;
  title: string;
  /** Trusted HTML (built from escaped values). */
  body: string;
  script?: string;
  headers?: Record<string, string>;
}

export function send(res: ServerResponse, p: Page, instance = 'Gatehouse'): void {
  const nonce = randomBytes(12).toString('base64');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(p.title)} - ${esc(instance)}</title><style nonce="${nonce}">${STYLE}</style></head><body><main>${p.body}</main>${p.script ? `<script nonce="${nonce}">${p.script}</script>` : ''}</body></html>`;
  res.writeHead(p.status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    ...p.headers,
  });
  res.end(html);
}

/** Unknown device, device without HTTP, or no access rule: one page, so nobody can probe which exist. */
export const notAvailable = (): Page => ({
  status: 404,
  title: 'Not available',
  body: `<h1>This address is not available</h1><p>There is no web console here that you may open. If you think you should have access, ask your Gatehouse administrator.</p>`,
});

export const accessEnded = (reason: string): Page => ({
  status: 403,
  title: 'Access ended',
  body: `<h1>Access ended</h1><p id="reason">${esc(reason)}</p><p class="muted">Your access to this device through Gatehouse is over. You can ask for access again.</p>
<form method="post" action="/.gatehouse/again"><button type="submit">Request access again</button></form>`,
});

export const badLogin = (): Page => ({
  status: 403,
  title: 'Sign-in link not valid',
  body: `<h1>This sign-in link is not valid</h1><p>It was already used, has expired (links last one minute) or was not made for this address.</p><p><a href="/">Start again</a></p>`,
});

export const upstreamError = (kind: 'down' | 'timeout' | 'tls', device: string): Page => ({
  status: kind === 'timeout' ? 504 : 502,
  title: kind === 'timeout' ? 'Device timed out' : 'Device unreachable',
  body:
    kind === 'timeout'
      ? `<h1>${esc(device)} did not answer in time</h1><p>Gatehouse reached the device but it did not answer. Try again in a moment; if it keeps happening, the device may be overloaded.</p>`
      : kind === 'tls'
        ? `<h1>${esc(device)}'s certificate was refused</h1><p>The device's TLS certificate did not pass the check configured for it (verified or pinned). Ask your administrator to check the device's certificate settings.</p>`
        : `<h1>${esc(device)} is not reachable</h1><p>Gatehouse could not connect to the device's web console. It may be down or restarting. Try again in a moment.</p>`,
});

export const message = (status: number, title: string, text: string): Page => ({
  status,
  title,
  body: `<h1>${esc(title)}</h1><p>${esc(text)}</p>`,
});

export interface WaitingView {
  id: number;
  text: string;
  device: string;
  approvers: string[];
  expiresAt: number | null;
  now: number;
  reason: string | null;
}

/** Fills {device}, {id}, {approvers} in a configured message, escaping the values. */
export function fill(template: string, v: Record<string, string | number>): string {
  return esc(template).replace(/\{(device|id|approvers)\}/g, (_, k: string) => esc(v[k] ?? ''));
}

export const waiting = (w: WaitingView, rejectedText: string): Page => ({
  status: 403,
  title: `Waiting for approval #${w.id}`,
  body: `<h1 id="title">${w.text}</h1>
${w.reason ? `<p class="muted">Your reason: ${esc(w.reason)}</p>` : ''}
<p id="status" role="status" aria-live="polite">${w.expiresAt ? `This request expires in <span id="countdown">${esc(Math.max(0, Math.round((w.expiresAt - w.now) / 1000)))} s</span>.` : 'This request does not expire.'} This page continues to the device by itself when it is approved.</p>
<p id="outcome" class="err" hidden></p>
<form method="post" action="/.gatehouse/cancel" id="cancel"><input type="hidden" name="id" value="${w.id}"><button type="submit">Cancel request</button></form>`,
  script: `(function(){var exp=${w.expiresAt ? w.expiresAt - w.now : 'null'},t0=Date.now(),cd=document.getElementById('countdown');
var rejected=${JSON.stringify(esc(rejectedText))};
function tick(){if(!cd)return;var s=Math.max(0,Math.round((exp-(Date.now()-t0))/1000));var m=Math.floor(s/60);cd.textContent=(m?m+' min ':'')+(s%60)+' s';}
if(exp!==null){tick();setInterval(tick,1000);}
function done(title,text){es.close();document.getElementById('title').textContent=title;var o=document.getElementById('outcome');o.hidden=false;o.textContent=text;document.getElementById('status').hidden=true;document.getElementById('cancel').hidden=true;}
var es=new EventSource('/.gatehouse/events?id=${w.id}');
es.addEventListener('status',function(e){var d=JSON.parse(e.data);
if(d.status==='approved'){es.close();location.reload();}
else if(d.status==='rejected'){var tmp=document.createElement('div');tmp.innerHTML=rejected;done('Request #${w.id} rejected',tmp.textContent+(d.comment?' Comment: '+d.comment:''));}
else if(d.status==='expired'){done('Request #${w.id} expired','Nobody decided in time, so the request expired. Reload this page to ask again.');}
else if(d.status==='cancelled'){done('Request #${w.id} cancelled','The request was cancelled. Reload this page to ask again.');}
else if(d.status==='revoked'){done('Request #${w.id} revoked','The approval was revoked.'+(d.comment?' Comment: '+d.comment:''));}
else if(d.level!==undefined){document.getElementById('status').dataset.level=d.level;}});})();`,
});

export const reasonForm = (text: string, min: number, error: string | null): Page => ({
  status: 403,
  title: 'Approval required',
  body: `<h1>${text}</h1><form method="post" action="/.gatehouse/request">
<label for="reason">Reason (at least ${min} characters)</label><textarea id="reason" name="reason" rows="3" maxlength="500" required minlength="${min}"${error ? ' aria-describedby="reason-error" aria-invalid="true"' : ''}></textarea>
${error ? `<p id="reason-error" class="err">${esc(error)}</p>` : ''}<p><button type="submit">Request access</button></p></form>`,
});

export const finished = (title: string, text: string, comment: string | null): Page => ({
  status: 403,
  title,
  body: `<h1>${esc(title)}</h1><p id="outcome">${text}</p>${comment ? `<p>Comment: <q>${esc(comment)}</q></p>` : ''}<form method="post" action="/.gatehouse/again"><button type="submit">Ask again</button></form>`,
});

// The HTML pages behind approval mail links: small, self-contained, never framed, never cached.
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../../../notify/templates.js';

/** Escapes a value for the page, with control characters made spaces. */
export const h = (v: unknown) => escapeHtml(String(v ?? '-').replace(/[\u0000-\u001f\u007f]/g, ' '));

export const SIGN_IN_FAILED = '<p>Wrong username, password or code. Go back and try again. Nothing was changed.</p>';

export const STALE = {
  unknown: ['Link not valid', 'This link is not valid here. It may be mistyped or belong to another system. Nothing was changed.'],
  used: ['Link already used', 'This link was already used; each link works once. Nothing was changed.'],
  foreign: ['Link for another approver', 'This link was sent to another approver. Nothing was changed.'],
} as const;

export const APPROVER_GONE = '<p>The approver this link was sent to can no longer decide. Nothing was changed.</p>';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><title>${h(title)}</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}th{text-align:left;padding-right:1rem}
textarea,input{width:100%;box-sizing:border-box;margin:.25rem 0 .75rem}button{padding:.5rem 1.2rem;font-size:1rem}
.approve{background:#1a7f37;color:#fff;border:0}.reject{background:#b42318;color:#fff;border:0}.note{color:#555}</style></head>
<body><h1>${h(title)}</h1>${body}</body></html>`;
}

/** `csp` adds to the page's policy (the passkey script: core CSP stays 'none' otherwise). */
export function send(reply: FastifyReply, status: number, title: string, body: string, csp = '') {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'${csp ? `; ${csp}` : ''}`,
    )
    .send(page(title, body));
}

/** One of the STALE pages. */
export const sendStale = (reply: FastifyReply, status: number, which: keyof typeof STALE) =>
  send(reply, status, STALE[which][0], `<p>${STALE[which][1]}</p>`);

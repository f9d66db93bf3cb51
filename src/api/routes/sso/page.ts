// The small HTML page a failed sign-in lands on: what happened, and the way back to the login page.
import type { FastifyReply } from 'fastify';
import { h, send } from '../email-links/page.js';

export function sendSsoFailure(reply: FastifyReply, status: number, reason: string, unavailable: boolean) {
  const title = unavailable ? 'Sign-in unavailable' : 'Sign-in refused';
  const lead = unavailable
    ? '<p>The identity provider could not be reached, so single sign-on is not possible right now. Nobody was signed in.</p>'
    : '<p>Single sign-on did not complete. Nobody was signed in.</p>';
  return send(
    reply,
    status,
    title,
    `${lead}<p class="note">${h(reason)}</p><p><a href="/">Back to the login page</a> (administrators can still sign in with their password).</p>`,
  );
}

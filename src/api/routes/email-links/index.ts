// The pages behind the Approve / Reject links in approval mail, outside /api/v1. GET only shows what
// would be decided (show.ts); the POST from that page decides (decide.ts). With
// approval.email.link.requires.login = true the decision needs the approver's console login: a console
// session cookie of that approver, or the approver's username and password on the form.
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../context.js';
import { decideLink } from './decide.js';
import { linkTokens } from './links.js';
import { PASSKEY_SCRIPT, passkeyOptions, passkeyScript } from './passkey.js';
import { showLink } from './show.js';

export async function emailLinkRoutes(app: FastifyInstance, { s, store }: Ctx): Promise<void> {
  const links = linkTokens(s);
  await app.register(async (sub) => {
    if (!sub.hasContentTypeParser('application/x-www-form-urlencoded'))
      sub.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });
    sub.get<{ Params: { token: string } }>('/email/approval/:token', showLink(s, store, links));
    sub.post<{ Params: { token: string }; Body: Record<string, string> | undefined }>(
      '/email/approval/:token',
      decideLink(s, store, links),
    );
    sub.get(PASSKEY_SCRIPT, passkeyScript);
    sub.post<{ Params: { token: string } }>('/email/approval/:token/passkey', { bodyLimit: 1024 }, passkeyOptions(s, links));
  });
}

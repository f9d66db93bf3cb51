// POST /api/v1/chat/slack/interactions: Slack's interactivity callback. The raw body (size-capped) is
// checked against X-Slack-Signature (v0: HMAC-SHA256 of "v0:<timestamp>:<body>" with the app's signing
// secret) and a timestamp within 5 minutes, before anything in it is read. Approve decides; Reject opens
// a modal whose submission carries the comment; answers go back through the payload's response_url.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditRefusal, alreadyText, chatDecide, clicker, clickerEmail } from '../../../notify/chat/decide.js';
import { providerNamed } from '../../../notify/chat/settings.js';
import { APPROVE, REJECT, REJECT_VIEW, SlackApi, rejectModal } from '../../../notify/chat/slack.js';
import { postJson } from '../../../notify/webhooks-http.js';
import type { Services } from '../../../services.js';
import type { Ctx } from '../context.js';
import { RefusalThrottle } from './throttle.js';

export const MAX_INTERACTION_BYTES = 256 * 1024;
const WINDOW_S = 300;

/** Slack's documented check: `v0=` + hex HMAC-SHA256(signing secret, `v0:${timestamp}:${raw body}`). */
export function slackSignature(secret: string, ts: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Payload {
  type?: string;
  user?: { id?: string };
  trigger_id?: string;
  response_url?: string;
  actions?: { action_id?: string; value?: string }[];
  view?: {
    callback_id?: string;
    private_metadata?: string;
    state?: { values?: Record<string, Record<string, { value?: string | null }>> };
  };
}

const idOf = (v: unknown) => (typeof v === 'string' && /^[1-9]\d{0,12}$/.test(v) ? Number(v) : null);

/** An ephemeral answer to the clicker, only to Slack's own hooks host (or the configured API's host). */
async function answer(s: Services, apiUrl: string | null, url: string | undefined, text: string): Promise<void> {
  if (!url) return;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return;
  }
  const allowed = u.protocol === 'https:' && u.hostname === 'hooks.slack.com';
  const sameAsApi = apiUrl !== null && u.origin === new URL(apiUrl).origin;
  if (!allowed && !sameAsApi) return;
  const r = await postJson(u.href, {}, JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }), {
    timeoutMs: 5000,
    maxResponseBytes: 4096,
  });
  if (r.error) s.log.warn({ err: r.error }, 'slack response_url answer failed');
}

export async function slackInteractions(app: FastifyInstance, { s }: Ctx): Promise<void> {
  if (app.hasContentTypeParser('application/x-www-form-urlencoded')) app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: MAX_INTERACTION_BYTES },
    (_req, body, done) => done(null, body),
  );
  const throttle = new RefusalThrottle();
  const refuse = async (reply: FastifyReply, why: string, text: string) => {
    if (throttle.take()) await auditRefusal(s, 'slack', why);
    else s.log.warn({ why }, 'slack interaction refused (audit throttled)');
    return reply.status(401).type('text/plain').send(text);
  };

  app.post(
    '/chat/slack/interactions',
    {
      config: { allow: 'public' },
      bodyLimit: MAX_INTERACTION_BYTES,
      schema: { tags: ['chat'], summary: "Slack's interactivity callback (signed by Slack; no login)" },
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const pv = await providerNamed(s, 'slack');
      if (!pv) return reply.status(404).type('text/plain').send('Slack is not set up on this Gatehouse');
      const raw = typeof req.body === 'string' ? req.body : null;
      const ts = String(req.headers['x-slack-request-timestamp'] ?? '');
      const sig = String(req.headers['x-slack-signature'] ?? '');
      if (raw === null) return refuse(reply, 'not form-encoded', 'expected application/x-www-form-urlencoded');
      if (!/^\d{1,12}$/.test(ts)) return refuse(reply, 'no timestamp', 'missing X-Slack-Request-Timestamp');
      if (!sameText(sig, slackSignature(pv.secret, ts, raw))) return refuse(reply, 'bad signature', 'invalid signature');
      if (Math.abs(Date.now() / 1000 - Number(ts)) > WINDOW_S) return refuse(reply, 'stale timestamp', 'request too old (replayed?)');
      let p: Payload;
      try {
        p = JSON.parse(new URLSearchParams(raw).get('payload') ?? '') as Payload;
      } catch {
        return reply.status(400).type('text/plain').send('no payload');
      }
      const chatUser = typeof p.user?.id === 'string' ? p.user.id.slice(0, 40) : '';
      const api = pv.api as SlackApi;
      const who = () => clickerEmail(api, chatUser);

      if (p.type === 'view_submission' && p.view?.callback_id === REJECT_VIEW) {
        const id = idOf(p.view.private_metadata);
        if (id === null) return reply.send({});
        const comment = p.view.state?.values?.comment?.comment?.value ?? '';
        const a = await chatDecide(s, {
          provider: 'slack',
          chatUser,
          ...(await who()),
          requestId: id,
          action: 'reject',
          comment: String(comment),
        });
        return a.ok
          ? reply.send({ response_action: 'clear' })
          : reply.send({ response_action: 'errors', errors: { comment: a.text.slice(0, 150) } });
      }
      const act = p.type === 'block_actions' ? p.actions?.[0] : undefined;
      const id = idOf(act?.value);
      if (!act || id === null || (act.action_id !== APPROVE && act.action_id !== REJECT)) return reply.status(200).send();
      if (act.action_id === APPROVE) {
        const a = await chatDecide(s, { provider: 'slack', chatUser, ...(await who()), requestId: id, action: 'approve' });
        await reply.status(200).send();
        return void answer(s, pv.settings.apiUrl, p.response_url, a.text);
      }
      // Reject: the modal asks why, unless this clicker cannot decide here or it is already decided.
      const by = await clicker(s, { provider: 'slack', chatUser, ...(await who()), requestId: id });
      const why = 'answer' in by ? by.answer.text : await alreadyText(s, id);
      if (!why && p.trigger_id) {
        const required = (await s.params.params()).bool('approval.reject.comment.required');
        const opened = await api.openModal(p.trigger_id, rejectModal(id, required)).then(
          () => null,
          (err: Error) => `Could not open the reject form (${err.message}); reject on the request page instead.`,
        );
        await reply.status(200).send();
        if (opened) void answer(s, pv.settings.apiUrl, p.response_url, opened);
        return;
      }
      await reply.status(200).send();
      void answer(s, pv.settings.apiUrl, p.response_url, why ?? 'Reject on the request page.');
    },
  );
}

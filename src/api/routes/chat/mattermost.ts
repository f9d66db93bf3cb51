// POST /api/v1/chat/mattermost/actions: Mattermost's interactive button callback. Mattermost sends back
// the context Gatehouse put on the button; its HMAC (keyed by a secret only Gatehouse holds) and the
// message it names are checked before anything else, so a forged or moved context decides nothing.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditRefusal, chatDecide, clicker, clickerEmail } from '../../../notify/chat/decide.js';
import { requestUrl } from '../../../notify/chat/card.js';
import { verifyContext } from '../../../notify/chat/mattermost.js';
import { providerNamed } from '../../../notify/chat/settings.js';
import type { Ctx } from '../context.js';
import { RefusalThrottle } from './throttle.js';

interface ActionBody {
  user_id?: string;
  post_id?: string;
  context?: unknown;
}

export async function mattermostActions(app: FastifyInstance, { s }: Ctx): Promise<void> {
  const throttle = new RefusalThrottle();
  app.post(
    '/chat/mattermost/actions',
    {
      config: { allow: 'public' },
      bodyLimit: 64 * 1024,
      schema: { tags: ['chat'], summary: "Mattermost's button callback (its context is signed by Gatehouse; no login)" },
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const pv = await providerNamed(s, 'mattermost');
      if (!pv) return reply.status(404).send({ ephemeral_text: 'Mattermost is not set up on this Gatehouse' });
      const b = (req.body ?? {}) as ActionBody;
      const chatUser = typeof b.user_id === 'string' ? b.user_id.slice(0, 40) : '';
      const c = b.context;
      const msg = verifyContext(pv.secret, c) ? await s.chat.messageByKey(c.key) : undefined;
      if (
        !verifyContext(pv.secret, c) ||
        !msg ||
        msg.provider !== 'mattermost' ||
        msg.requestId !== c.request ||
        msg.messageId !== b.post_id
      ) {
        if (throttle.take()) await auditRefusal(s, 'mattermost', 'bad context', { chatUser });
        return reply.status(403).send({ ephemeral_text: 'This button could not be verified; open the request in Gatehouse.' });
      }
      const email = await clickerEmail(pv.api, chatUser);
      if (c.action === 'reject' && (await s.params.params()).bool('approval.reject.comment.required')) {
        const who = await clicker(s, { provider: 'mattermost', chatUser, ...email, requestId: c.request });
        const text =
          'answer' in who
            ? who.answer.text
            : `A rejection needs a comment: reject on the request page, ${requestUrl(s.config.publicUrl, c.request)}`;
        return reply.send({ ephemeral_text: text });
      }
      const a = await chatDecide(s, { provider: 'mattermost', chatUser, ...email, requestId: c.request, action: c.action });
      return reply.send({ ephemeral_text: a.text });
    },
  );
}

// API tokens: each user lists, creates and revokes their own.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentToken } from '../../../presenters/tokens.js';
import { deny } from '../../auth.js';
import { mayMintToken } from '../../policy.js';
import { ById, Ok, errors } from '../schema.js';
import { callerOf, type Ctx } from '../context.js';
import { NewToken, Token, TokenCreated } from './schema.js';

function tokenListRoute(app: FastifyInstance, { store }: Ctx) {
  app.get(
    '/tokens',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['tokens'],
        summary: 'My API tokens (never the token itself)',
        response: { 200: Type.Object({ items: Type.Array(Token) }), ...errors },
      },
    },
    async (req) => ({
      items: (await store.listTokens(callerOf(req).user.id)).map(presentToken),
    }),
  );
}

function tokenCreateRoute(app: FastifyInstance, { s, store }: Ctx) {
  app.post(
    '/tokens',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the token is shown once, in this response',
        body: NewToken,
        response: { 201: TokenCreated, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { name: string; expiresInDays?: number };
      const now = s.clock.now();
      if (!(await mayMintToken(s, c)))
        return deny(
          reply,
          403,
          'second_factor_required',
          c.channel === 'api'
            ? 'this token was not made from a session that proved the second factor: it cannot create tokens; create one in the console after signing in with your code'
            : 'your second factor is required now: sign in again with your code, then create the token',
        );
      const { token, row } = await store.createToken(
        c.user.id,
        b.name.trim(),
        now,
        b.expiresInDays ? now + b.expiresInDays * 86_400_000 : null,
        c.factor,
      );
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'token.create',
        targetType: 'api-token',
        targetId: row.id,
        details: { name: row.name, prefix: row.prefix },
      });
      return reply.status(201).send({ token, item: presentToken(row) });
    },
  );
}

function tokenRevokeRoute(app: FastifyInstance, { s, store }: Ctx) {
  app.delete(
    '/tokens/:id',
    {
      config: { allow: 'user' },
      schema: { tags: ['tokens'], summary: 'Revoke one of my API tokens', params: ById, response: { 200: Ok, ...errors } },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const { id } = req.params as { id: number };
      // Someone else's token looks exactly like a missing one.
      if (!(await store.revokeToken(c.user.id, id, s.clock.now())))
        return reply.status(404).send({ error: { code: 'not_found', message: `API token #${id} not found` } });
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'token.revoke',
        targetType: 'api-token',
        targetId: id,
      });
      return { ok: true };
    },
  );
}

export async function tokenRoutes(app: FastifyInstance, ctx: Ctx) {
  tokenListRoute(app, ctx);
  tokenCreateRoute(app, ctx);
  tokenRevokeRoute(app, ctx);
}

// The TOTP second factor in the console: the login's second step (login.ts, with tickets.ts), my own
// enrolment (mine.ts), and the administrator's switches (admin.ts). Every code check first reserves an
// attempt in the shared login limiter (core/limiter.ts): 5 codes per user in 15 minutes on all nodes, then 429.
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../context.js';
import { secondFactorAdminRoutes } from './admin.js';
import { secondFactorLoginRoutes } from './login.js';
import { mySecondFactorRoutes } from './mine.js';

export async function secondFactorRoutes(app: FastifyInstance, ctx: Ctx) {
  await secondFactorLoginRoutes(app, ctx);
  await mySecondFactorRoutes(app, ctx);
  await secondFactorAdminRoutes(app, ctx);
}

// JSON API under /api/v1 and the console (issue: Web console and JSON API).
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';

export async function registerApi(_app: FastifyInstance, _s: Services): Promise<void> {}

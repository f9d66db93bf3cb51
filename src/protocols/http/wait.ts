// The waiting side of the gate: ask for approval (with a reason when required), show the waiting page,
// stream the request's status over SSE (events from the bus reach every node's proxy), cancel, and
// explain a rejection or expiry when the user comes back.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ask, watch } from '../../core/access/index.js';
import { levelApprovers, effectiveStatus } from '../../core/approvals/rules.js';
import { GatehouseError } from '../../core/errors.js';
import { safeRedirect } from '../../core/redirect.js';
import type { ApprovalRequest, Device, User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { fill, finished, message, reasonForm, send, waiting } from './pages.js';
import { peopleLine, personById } from '../../presenters/people.js';

export class Waiter {
  /** `${userId}:${host}` -> the approval request this user last waited on for this host. */
  private readonly requests = new Map<string, number>();
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly s: Services) {}

  private async texts(device: string) {
    const p = await this.s.params.params();
    return {
      instance: p.str('instance.name'),
      required: fill(p.str('http.proxy.approval.required.message'), { device }),
      waiting: p.str('http.proxy.waiting.manager.message'),
      rejected: p.str('http.proxy.approval.rejected.message'),
    };
  }

  forget(key: string): void {
    this.requests.delete(key);
  }

  /** The gate said approval-required: show the right page for where this user's request stands. */
  async page(
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    user: User,
    device: Device,
    requireReason: boolean,
    noApprover: boolean,
    reason?: string,
  ): Promise<void> {
    const s = this.s;
    const t = await this.texts(device.name);
    if (noApprover)
      return send(
        res,
        message(
          403,
          'No approver',
          `Access to ${device.name} needs approval, but nobody is eligible to approve it. Ask your Gatehouse administrator to name an approver.`,
        ),
        t.instance,
      );
    const known = this.requests.get(key);
    let r = known !== undefined ? await s.approvals.get(known) : undefined;
    if (r && r.status !== 'waiting' && r.status !== 'approved') {
      const comment = r.decisionComment;
      if (r.status === 'rejected')
        return send(res, finished(`Request #${r.id} rejected`, fill(t.rejected, { device: device.name, id: r.id }), comment), t.instance);
      if (r.status === 'expired')
        return send(
          res,
          finished(`Request #${r.id} expired`, 'Nobody decided in time, so the request expired. You can ask again.', null),
          t.instance,
        );
      if (r.status === 'revoked') return send(res, finished(`Request #${r.id} revoked`, 'The approval was revoked.', comment), t.instance);
      r = undefined; // cancelled: ask again
    }
    if (!r || r.status !== 'waiting') {
      if (requireReason && reason === undefined)
        return send(res, reasonForm(t.required, (await s.params.params()).int('approval.reason.min.length'), null), t.instance);
      const out = await ask(s.approvals, {
        username: user.username,
        device: device.name,
        protocol: 'http',
        channel: 'web',
        reason: reason ?? null,
        clientAddr: req.socket.remoteAddress ?? null,
      });
      if ('kind' in out) {
        if (out.reason === 'error') throw out.error;
        if (out.reason === 'reason-required')
          return send(res, reasonForm(t.required, (await s.params.params()).int('approval.reason.min.length'), out.message), t.instance);
        return send(res, message(403, 'Cannot ask for approval', out.message), t.instance);
      }
      if (out.outcome !== 'waiting') return again(res, req.method === 'GET' ? (req.url ?? '/') : '/');
      r = out.request;
      this.requests.set(key, r.id);
    }
    const p = await s.policy.current();
    const names = levelApprovers(r, r.currentLevel).map((id) => personById(p, id));
    const text = fill(t.waiting, { id: r.id, approvers: peopleLine(names), device: device.name });
    send(
      res,
      waiting(
        { id: r.id, text, device: device.name, approvers: names, expiresAt: r.expiresAt, now: s.clock.now(), reason: r.reason },
        fill(t.rejected, { device: device.name, id: r.id }),
      ),
      t.instance,
    );
  }

  /** SSE: the status of one of the caller's requests, now and on every change. */
  async events(res: ServerResponse, userId: number, id: number): Promise<void> {
    if (!Number.isSafeInteger(id) || id <= 0) return send(res, message(404, 'Not found', 'No such request.'));
    const stop = new AbortController();
    // The expiry is known in advance: say so on time even if the sweeper runs late.
    const w = await watch(this.s, id, stop.signal, 50);
    const r = w.first;
    if (!r || r.requesterId !== userId) {
      w.close();
      return send(res, message(404, 'Not found', 'No such request.'));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const push = (x: ApprovalRequest) =>
      res.write(
        `event: status\ndata: ${JSON.stringify({ id: x.id, status: effectiveStatus(x, this.s.clock.now()), level: x.currentLevel, comment: x.decisionComment })}\n\n`,
      );
    push(r);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    this.streams.add(res);
    res.on('close', () => {
      stop.abort();
      clearInterval(ping);
      this.streams.delete(res);
    });
    void (async () => {
      for await (const x of w.changes) push(x);
    })().catch(() => {});
  }

  async cancel(res: ServerResponse, user: User, id: number): Promise<void> {
    if (!Number.isSafeInteger(id) || id <= 0) return send(res, message(400, 'Bad request', 'No request to cancel.'));
    try {
      await this.s.approvals.cancel(id, user.username, 'web');
    } catch (err) {
      if (!(err instanceof GatehouseError)) throw err;
    }
    send(res, finished(`Request #${id} cancelled`, 'You cancelled the request.', null));
  }

  close(): void {
    for (const r of this.streams) r.destroy();
  }
}

/** 303 to the same host's root (after a form post) or a reload of the page, if its path stays on this host. */
export function again(res: ServerResponse, to = '/'): void {
  res.writeHead(303, { location: safeRedirect(to), 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

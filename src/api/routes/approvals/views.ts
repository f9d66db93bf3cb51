// An approval request as the caller may see it: who they act for (themself and their delegators), the
// presented request with whether they may decide it now, and the visibility check.
import { GatehouseError, notFound } from '../../../core/errors.js';
import type { ApprovalRequest } from '../../../core/types.js';
import { presentApproval } from '../../../presenters/approvals.js';
import { actingFor, canDecideNow, canSeeApproval, type Caller } from '../../policy.js';
import type { Ctx } from '../context.js';

export function approvalViews({ s, store }: Ctx) {
  const acting = async (c: Caller) => actingFor(c, await s.store.delegationsTo(c.user.id, s.clock.now()));

  const show = async (c: Caller, r: ApprovalRequest, ids: number[], withDecisions = false) => {
    const p = await s.policy.current();
    const decisions = withDecisions ? await s.store.decisions(r.id) : undefined;
    const canDecide = canDecideNow(c, r, ids);
    const rejectCommentRequired = canDecide ? (await s.params.params()).bool('approval.reject.comment.required') : undefined;
    return { ...presentApproval(p, r, s.clock.now(), decisions), canDecide, rejectCommentRequired };
  };

  /** The requester's latest other requests for the same device, for the request page. */
  const recent = async (r: ApprovalRequest) => {
    const p = await s.policy.current();
    const now = s.clock.now();
    const rows = await s.store.listRequests({ requesterId: r.requesterId, limit: 200 });
    return rows
      .filter((x) => x.deviceId === r.deviceId && x.id !== r.id)
      .slice(0, 10)
      .map((x) => {
        const a = presentApproval(p, x, now);
        return {
          id: a.id,
          status: a.status,
          protocol: a.protocol,
          account: a.account,
          createdAt: a.createdAt,
          decidedBy: a.decidedBy,
          comment: a.comment,
        };
      });
  };

  /** Reads a request the caller may see; 404 when it does not exist, 403 when it is someone else's. */
  const visible = async (c: Caller, id: number) => {
    const r = await s.approvals.get(id);
    if (!r) throw notFound(`approval request #${id}`);
    const ids = await acting(c);
    if (!canSeeApproval(c, r, ids, await store.hasDecided(id, c.user.id)))
      throw new GatehouseError('forbidden', `approval request #${id} is neither yours nor one you may decide`);
    return { r, ids };
  };

  return { acting, show, visible, recent };
}

export type ApprovalViews = ReturnType<typeof approvalViews>;

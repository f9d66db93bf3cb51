// One outbox job: bring every chat message about one request up to date. Approvers of the current level
// who have no message yet get a DM (matched by email), the channel gets its post, every message already
// posted is updated when what it shows changed, and a decided request's requester gets the outcome.
// One sender per request at a time (the job's lease), so a message is posted once; a failure part-way
// leaves what was posted recorded, and the retry does only the rest.
import { randomBytes } from 'node:crypto';
import { effectiveStatus, levelApprovers } from '../../core/approvals/rules.js';
import { delegatesToTell } from '../../core/delegations.js';
import { PASSKEY_PARAM } from '../../core/passkeys.js';
import type { ChatMessage } from '../../core/ports/chat.js';
import type { ApprovalRequest, User } from '../../core/types.js';
import type { Services } from '../../services.js';
import type { Recipient } from './api.js';
import { card, cardHash, outcomeCard, type Actions, type Card } from './card.js';
import type { Provider } from './settings.js';

/** Must this user decide elsewhere (a second factor or a passkey)? Then chat buttons only link to the page. */
export async function decidesElsewhere(s: Services, u: User): Promise<boolean> {
  if ((await s.params.params()).bool(PASSKEY_PARAM)) return true;
  return s.approvals.factorRequiredToDecide(u);
}

const newKey = () => randomBytes(18).toString('base64url');

export async function syncRequest(s: Services, pv: Provider, requestId: number): Promise<void> {
  const r = await s.store.getRequest(requestId);
  if (!r) return;
  const p = await s.policy.current();
  const now = s.clock.now();
  const decisions = await s.store.decisions(requestId);
  const provider = pv.settings.provider;
  const base = { policy: p, request: r, decisions, now, publicUrl: s.config.publicUrl };
  const waiting = effectiveStatus(r, now) === 'waiting';
  const current = new Set(levelApprovers(r, r.currentLevel));
  // Whoever holds a current approver's rights now gets the approvers' DM too.
  if (waiting) for (const id of (await delegatesToTell(s.store, p, [...current], r.requesterId, now)).keys()) current.add(id);
  const passkeyOn = (await s.params.params()).bool(PASSKEY_PARAM);

  const actionsFor = async (target: string): Promise<Actions> => {
    if (!waiting) return 'none';
    if (target === 'channel') return passkeyOn ? 'link' : 'decide';
    const id = Number(target.slice(5));
    const u = p.usersById.get(id);
    if (!u || !current.has(id)) return 'none';
    return (await decidesElsewhere(s, u)) ? 'link' : 'decide';
  };
  const cardFor = async (target: string): Promise<Card> =>
    target === 'requester' ? outcomeCard(base) : card({ ...base, actions: await actionsFor(target) });

  const posted = await s.chat.messages(provider, requestId);
  const has = new Set(posted.map((m) => m.target));
  const send = async (target: string, to: Recipient) => {
    const c = await cardFor(target);
    const key = newKey();
    const { channelId, messageId } = await pv.api.post(to, c, key);
    await s.chat.addMessage({ provider, requestId, target, channelId, messageId, key, rendered: cardHash(c) }, s.clock.now());
    has.add(target);
  };

  // Updates first: a decision shows on every message before anything new is posted.
  for (const m of posted) await refresh(s, pv, m, await cardFor(m.target));

  if (waiting) {
    for (const id of current) {
      const target = `user:${id}`;
      const email = p.usersById.get(id)?.email;
      if (has.has(target) || !email || p.usersById.get(id)?.disabled) continue;
      const chatUser = await pv.api.userByEmail(email);
      if (chatUser) await send(target, { user: chatUser });
    }
    if (pv.settings.channel && !has.has('channel')) await send('channel', { channel: pv.settings.channel });
  } else if (isOutcome(r, now) && !has.has('requester')) {
    const email = p.usersById.get(r.requesterId)?.email;
    const chatUser = email ? await pv.api.userByEmail(email) : null;
    if (chatUser) await send('requester', { user: chatUser });
  }
}

/** Requesters hear of approvals, rejections and expiry (they cancelled it themselves; revocation comes by mail). */
const isOutcome = (r: ApprovalRequest, now: number) => ['approved', 'rejected', 'expired'].includes(effectiveStatus(r, now));

async function refresh(s: Services, pv: Provider, m: ChatMessage, c: Card): Promise<void> {
  const h = cardHash(c);
  if (h === m.rendered) return;
  await pv.api.update(m.channelId, m.messageId, c, m.key);
  await s.chat.markRendered(m.id, h, s.clock.now());
}

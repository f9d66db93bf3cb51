// A decision from a chat button, whatever the chat: the chat user is mapped back to a Gatehouse user by
// email, must be able to decide here (no second factor or passkey needed), and then meets the approval
// engine like every other channel (eligibility, self-approval, one decision under any race). Every
// refusal is audited and answered in plain words.
import { effectiveStatus } from '../../core/approvals/rules.js';
import { GatehouseError } from '../../core/errors.js';
import type { ChatProvider } from '../../core/ports/chat.js';
import { ChatApiError } from './api.js';
import type { User } from '../../core/types.js';
import type { Services } from '../../services.js';
import { outcomeLine, plain, requestUrl } from './card.js';
import { decidesElsewhere } from './sync.js';

export interface ChatClick {
  provider: ChatProvider;
  /** The chat's user id (audited) and the email the chat gives for it. */
  chatUser: string;
  email: string | null;
  /** Why the chat could not be asked for the email (it is down, or refused): nobody is decided for. */
  lookupFailed?: string;
  requestId: number;
  action: 'approve' | 'reject';
  comment?: string;
}

export interface ChatAnswer {
  ok: boolean;
  text: string;
}

const NAME = { slack: 'Slack', mattermost: 'Mattermost' } as const;

/** Audits a refused chat interaction; `actor` is the Gatehouse user when known. */
export async function auditRefusal(
  s: Services,
  provider: ChatProvider,
  why: string,
  o: { actor?: User; chatUser?: string; requestId?: number; detail?: string } = {},
): Promise<void> {
  await s.audit({
    actor: o.actor?.username ?? `${provider}:${plain(o.chatUser ?? 'unknown', 40)}`,
    actorId: o.actor?.id ?? null,
    channel: provider,
    action: 'chat.refused',
    targetType: o.requestId === undefined ? 'chat' : 'approval',
    targetId: o.requestId ?? provider,
    details: {
      provider,
      why,
      ...(o.chatUser ? { chatUser: plain(o.chatUser, 40) } : {}),
      ...(o.detail ? { detail: plain(o.detail, 200) } : {}),
    },
  });
}

/** The enabled Gatehouse user with this email, when exactly one has it. */
export async function userByEmail(s: Services, email: string | null): Promise<User | undefined> {
  if (!email) return undefined;
  const want = email.trim().toLowerCase();
  const found = [...(await s.policy.current()).usersById.values()].filter((u) => !u.disabled && u.email?.trim().toLowerCase() === want);
  return found.length === 1 ? found[0] : undefined;
}

/** "Request #12 was already approved by Bob Manager (bob) in the console at 12:04." */
export async function alreadyText(s: Services, id: number): Promise<string | null> {
  const r = await s.store.getRequest(id);
  if (!r || effectiveStatus(r, s.clock.now()) === 'waiting') return null;
  const line = outcomeLine(await s.policy.current(), r, await s.store.decisions(id), s.clock.now());
  return line ? `Request #${id} was already ${line.replace(/^\S+\s+/, '').replace(/^./, (c) => c.toLowerCase())}.` : null;
}

/** The clicker's email from the chat's API; a failed lookup is kept apart from "no such user". */
export async function clickerEmail(
  api: { emailOf(userId: string): Promise<string | null> },
  chatUser: string,
): Promise<Pick<ChatClick, 'email' | 'lookupFailed'>> {
  if (!chatUser) return { email: null };
  try {
    return { email: await api.emailOf(chatUser) };
  } catch (err) {
    // A user the chat does not know is "not linked"; anything else (down, rate-limited, bad token) is an outage.
    if (err instanceof ChatApiError && err.permanent) return { email: null };
    return { email: null, lookupFailed: err instanceof Error ? err.message : String(err) };
  }
}

/** Who clicked, when they may decide from chat; otherwise the answer to give. */
export async function clicker(s: Services, c: Omit<ChatClick, 'action'>): Promise<{ user: User } | { answer: ChatAnswer }> {
  if (c.lookupFailed !== undefined) {
    await auditRefusal(s, c.provider, 'user lookup failed', { chatUser: c.chatUser, requestId: c.requestId, detail: c.lookupFailed });
    return {
      answer: {
        ok: false,
        text: `Gatehouse could not ask ${NAME[c.provider]} who you are, so nothing was decided. Try again in a minute, or decide in the console: ${requestUrl(s.config.publicUrl, c.requestId)}`,
      },
    };
  }
  const user = await userByEmail(s, c.email);
  if (!user) {
    await auditRefusal(s, c.provider, 'unknown user', { chatUser: c.chatUser, requestId: c.requestId });
    return {
      answer: {
        ok: false,
        text: `Your ${NAME[c.provider]} account is not linked to a Gatehouse user (matched by email). Decide in the console: ${requestUrl(s.config.publicUrl, c.requestId)}`,
      },
    };
  }
  if (await decidesElsewhere(s, user))
    return {
      answer: {
        ok: false,
        text: `You confirm decisions with a second factor or a passkey, which ${NAME[c.provider]} cannot carry. Decide on the request page: ${requestUrl(s.config.publicUrl, c.requestId)}`,
      },
    };
  return { user };
}

export async function chatDecide(s: Services, c: ChatClick): Promise<ChatAnswer> {
  const who = await clicker(s, c);
  if ('answer' in who) return who.answer;
  const already = await alreadyText(s, c.requestId);
  if (already) return { ok: false, text: already };
  try {
    const opts = { channel: c.provider, proof: 'none' as const, comment: c.comment };
    await (c.action === 'approve'
      ? s.approvals.approve(c.requestId, who.user.username, opts)
      : s.approvals.reject(c.requestId, who.user.username, opts));
    return { ok: true, text: `${c.action === 'approve' ? '✅ You approved' : '❌ You rejected'} request #${c.requestId}.` };
  } catch (err) {
    if (!(err instanceof GatehouseError)) throw err;
    const lost = (await alreadyText(s, c.requestId)) ?? null;
    if (lost) return { ok: false, text: lost };
    if (['forbidden', 'self_approval', 'not_found', 'second_factor_required', 'passkey_required'].includes(err.code))
      await auditRefusal(s, c.provider, err.code, { actor: who.user, chatUser: c.chatUser, requestId: c.requestId, detail: err.message });
    return { ok: false, text: plain(err.message, 500) };
  }
}

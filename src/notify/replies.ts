// Inbound replies (from the SMTP listener or the IMAP poller). A reply decides a request only when:
//   - its first non-quoted line starts with APPROVE or REJECT (the rest of the line is the comment);
//   - the subject's #<id> names a waiting request;
//   - the From address is the email of an eligible approver of the request's current level;
//   - the request's reply secret is present (plus-address of a recipient, or our Message-ID in
//     In-Reply-To/References) and every secret present matches;
//   - its Message-ID was never processed before.
// Anything else is refused and audited; a genuine approver (by the directory's address) gets a short reply.
// A reply proves no second factor: an approver who must prove one is refused (the engine checks it) and
// told to use the link or the console.
import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { levelApprovers } from '../core/approvals/rules.js';
import { GatehouseError } from '../core/errors.js';
import type { ApprovalRequest, User } from '../core/types.js';
import type { Services } from '../services.js';
import { enqueue } from './builder.js';
import { refusalMail, secretFromMessageId, validEmail } from './compose.js';
import type { MailConfig } from './config.js';
import { lookupSecret, sameSecret } from './tokens.js';

export type ReplyOutcome =
  | { accepted: true; requestId: number; action: 'approve' | 'reject'; approver: string }
  | { accepted: false; reason: string; requestId: number | null; replied: boolean; ignored?: boolean };

export interface InboundMeta {
  via: 'smtp' | 'imap';
  /** Envelope recipients (SMTP RCPT TO), when known. */
  recipients?: string[];
}

/** Claims of a reply stuck in "processing" (a crash mid-way) may be retaken after this long. */
const STALE_CLAIM_MS = 120_000;

export function parseCommand(text: string): { action: 'approve' | 'reject'; comment: string } | null {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('>')) continue;
    const m = /^(approve|reject)\b[\s:,.!-]*(.*)$/i.exec(line);
    if (!m) return null;
    return { action: m[1].toLowerCase() as 'approve' | 'reject', comment: m[2].trim() };
  }
  return null;
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((x) => x.value.map((v) => (v.address ?? '').toLowerCase())).filter(Boolean);
}

export class ReplyProcessor {
  constructor(
    private readonly s: Services,
    private readonly cfg: MailConfig,
    private readonly onQueued: () => void,
  ) {}

  private secretsIn(mail: ParsedMail, meta: InboundMeta): string[] {
    const [local, domain] = this.cfg.replyAddress.toLowerCase().split('@');
    const out: string[] = [];
    const rcpts = [...(meta.recipients ?? []).map((r) => r.toLowerCase()), ...addresses(mail.to), ...addresses(mail.cc)];
    for (const addr of rcpts) {
      const [l, d] = addr.split('@');
      if (d !== domain || !l?.startsWith(`${local}+`)) continue;
      // Secrets are lowercase hex, so mail systems that fold the case of addresses do no harm.
      out.push(l.slice(local.length + 1));
    }
    const refs = [mail.inReplyTo ?? '', ...(Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [])];
    for (const r of refs)
      for (const id of r.split(/\s+/)) {
        const s = secretFromMessageId(id);
        if (s) out.push(s.secret);
      }
    return out;
  }

  async process(raw: Buffer | string, meta: InboundMeta): Promise<ReplyOutcome> {
    const mail = await simpleParser(raw, { skipHtmlToText: false, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
    const from = addresses(mail.from)[0] ?? '';
    const subject = mail.subject ?? '';
    const idMatch = [...subject.matchAll(/#(\d{1,9})\b/g)].pop();
    const requestId = idMatch ? Number(idMatch[1]) : null;
    const auto = String(mail.headers.get('auto-submitted') ?? 'no').toLowerCase();
    if (auto !== 'no' || from === this.fromAddress()) {
      // Never answer machines (bounces, auto-replies, our own mail): that is how mail loops start.
      await this.audit(from, requestId, 'automatic message ignored', mail, meta);
      return { accepted: false, reason: 'automatic message ignored', requestId, replied: false, ignored: true };
    }
    const messageId = (mail.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`).slice(0, 400);
    if (!(await this.s.mail.claimInbound(messageId, Date.now(), STALE_CLAIM_MS))) {
      await this.audit(from, requestId, 'replayed message (this Message-ID was already processed)', mail, meta);
      return { accepted: false, reason: 'replayed', requestId, replied: false };
    }
    try {
      const out = await this.decide(mail, meta, from, requestId);
      await this.s.mail.setInboundOutcome(messageId, out.accepted ? `accepted ${out.action}` : `refused: ${out.reason}`.slice(0, 200));
      return out;
    } catch (err) {
      // Not a refusal: something broke (database down…). Release the claim so a retry can process it.
      await this.s.mail.releaseInbound(messageId).catch(() => {});
      throw err;
    }
  }

  private fromAddress(): string {
    return (/<([^>]+)>/.exec(this.cfg.from)?.[1] ?? this.cfg.from).toLowerCase();
  }

  private async decide(mail: ParsedMail, meta: InboundMeta, from: string, requestId: number | null): Promise<ReplyOutcome> {
    const policy = await this.s.policy.current();
    const r = requestId === null ? undefined : await this.s.approvals.get(requestId);
    const refuse = async (reason: string, hint: string): Promise<ReplyOutcome> => {
      await this.audit(from, requestId, reason, mail, meta);
      const replied = r ? await this.explain(r, from, reason, hint, mail) : false;
      return { accepted: false, reason, requestId, replied };
    };
    if (requestId === null || !r)
      return refuse('the subject names no approval request (#<id>)', 'Reply to the notification mail and keep its subject.');
    const cmd = parseCommand(mail.text ?? '');
    if (!cmd)
      return refuse(
        'the first line does not start with APPROVE or REJECT',
        'Put APPROVE or REJECT at the start of the first line of your reply.',
      );
    if (r.status !== 'waiting') return refuse(`request #${r.id} is ${r.status}`, 'It can no longer be decided.');
    const approvers = levelApprovers(r, r.currentLevel)
      .map((id) => policy.usersById.get(id))
      .filter((u): u is User => !!u && !u.disabled && validEmail(u.email));
    const approver = approvers.find((u) => u.email!.toLowerCase() === from);
    if (!approver)
      return refuse(
        `the sender is not an approver of request #${r.id} at its current level`,
        'Reply from the address the notification was sent to.',
      );
    const secret = await lookupSecret(this.s.mail, r.id);
    const found = this.secretsIn(mail, meta);
    if (!secret || !found.length)
      return refuse('the reply carries no reply code', 'Use Reply on the notification mail, so your reply goes to its Reply-To address.');
    if (!found.every((f) => sameSecret(f.toLowerCase(), secret.toLowerCase())))
      return refuse('the reply code does not match this request', 'Use Reply on the notification mail for this request.');
    try {
      const opts = { comment: cmd.comment || null, channel: 'email-reply' as const, proof: 'none' as const };
      if (cmd.action === 'approve') await this.s.approvals.approve(r.id, approver.username, opts);
      else await this.s.approvals.reject(r.id, approver.username, opts);
    } catch (err) {
      if (err instanceof GatehouseError && err.code === 'second_factor_required')
        return refuse(
          'a reply cannot prove your second factor, which deciding needs',
          'Use the Approve or Reject link in the notification mail (its page asks for your code) or the console. Nothing was changed.',
        );
      if (err instanceof GatehouseError) return refuse(err.message, 'Nothing was changed.');
      throw err;
    }
    this.s.log.info({ request: r.id, approver: approver.username, action: cmd.action, via: meta.via }, 'email reply accepted');
    return { accepted: true, requestId: r.id, action: cmd.action, approver: approver.username };
  }

  private async audit(from: string, requestId: number | null, reason: string, mail: ParsedMail, meta: InboundMeta): Promise<void> {
    await this.s.audit({
      actor: (from || 'unknown').slice(0, 64),
      channel: 'email-reply',
      action: 'mail.reply.refused',
      targetType: 'approval',
      targetId: requestId ?? undefined,
      details: { reason, from, messageId: mail.messageId ?? null, subject: (mail.subject ?? '').slice(0, 200), via: meta.via },
    });
    this.s.log.info({ request: requestId, from, reason, via: meta.via }, 'email reply refused');
  }

  /** A short reply to a genuine approver of the request (matched by the directory's address, never the From alone). */
  private async explain(r: ApprovalRequest, from: string, why: string, hint: string, mail: ParsedMail): Promise<boolean> {
    const policy = await this.s.policy.current();
    const approverIds = new Set(r.route.levels.flatMap((_, i) => levelApprovers(r, i)));
    const user = [...approverIds].map((id) => policy.usersById.get(id)).find((u) => u && !u.disabled && u.email?.toLowerCase() === from);
    if (!user || !validEmail(user.email)) return false;
    const params = await this.s.params.params();
    const key = `refused:${createHash('sha256')
      .update(mail.messageId ?? mail.subject ?? '')
      .update(String(Date.now()))
      .digest('hex')
      .slice(0, 32)}`;
    const m = refusalMail(
      { instance: params.str('instance.name'), domain: this.cfg.domain, templatesDirs: this.cfg.templatesDirs },
      key,
      { ...user, email: user.email },
      r.id,
      why,
      hint,
      mail.messageId,
    );
    const ok = await enqueue(this.s.mail, m, Date.now());
    if (ok) this.onQueued();
    return ok;
  }
}

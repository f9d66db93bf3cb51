/* eslint-disable @typescript-eslint/no-explicit-any -- Slack's JSON, checked field by field */
// A local stand-in for the parts of Slack's Web API that Gatehouse uses (users.lookupByEmail, users.info,
// chat.postMessage, chat.update, views.open) and for its interactivity requests. Every call is checked
// against Slack's documented shapes (Bearer token, form or JSON body, Block Kit structure and limits);
// a mismatch is recorded in `problems`, which tests expect empty. Clicks are sent signed exactly as Slack
// documents: form-encoded `payload`, X-Slack-Request-Timestamp, X-Slack-Signature v0.
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Block[];
  updates: number;
  /** For DMs: the user it went to. */
  user: string | null;
}

type Block = Record<string, any>;

export interface FakeSlack {
  url: string;
  token: string;
  /** email -> user id */
  users: Map<string, string>;
  messages: SlackMessage[];
  calls: { method: string; args: Record<string, unknown> }[];
  views: { trigger: string; view: Block }[];
  /** Ephemeral answers posted to response_url. */
  answers: { text: string }[];
  problems: string[];
  /** 'up', or answer 500 to everything, or reset every connection. */
  mode: 'up' | '500' | 'reset';
  /** Web API methods that answer HTTP 503 while the rest work (an outage of one of Slack's services). */
  failing: Set<string>;
  dmsTo(user: string): SlackMessage[];
  close(): Promise<void>;
}

const BUTTON_STYLES = new Set(['primary', 'danger']);

function checkText(p: string[], where: string, t: Block | undefined, max: number, types = ['plain_text', 'mrkdwn']) {
  if (!t || !types.includes(t.type)) return p.push(`${where}: text object must be ${types.join('|')}`);
  if (typeof t.text !== 'string' || !t.text.length || t.text.length > max) p.push(`${where}: text length 1..${max}, got ${t.text?.length}`);
}

/** Block Kit as Slack documents it, for the block types Gatehouse sends. */
export function checkBlocks(blocks: unknown, p: string[]): void {
  if (!Array.isArray(blocks) || !blocks.length || blocks.length > 50) return void p.push('blocks: an array of 1..50');
  blocks.forEach((b: Block, i) => {
    const w = `blocks[${i}] (${b?.type})`;
    if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > 255)) p.push(`${w}: block_id <= 255`);
    if (b.type === 'header') checkText(p, w, b.text, 150, ['plain_text']);
    else if (b.type === 'section') {
      if (!b.text && !b.fields) p.push(`${w}: text or fields`);
      if (b.text) checkText(p, w, b.text, 3000);
      if (b.fields) {
        if (!Array.isArray(b.fields) || b.fields.length > 10) p.push(`${w}: fields <= 10`);
        for (const f of b.fields ?? []) checkText(p, `${w}.fields`, f, 2000);
      }
    } else if (b.type === 'context') {
      if (!Array.isArray(b.elements) || !b.elements.length || b.elements.length > 10) p.push(`${w}: 1..10 elements`);
      for (const e of b.elements ?? []) checkText(p, `${w}.elements`, e, 3000);
    } else if (b.type === 'actions') {
      if (!Array.isArray(b.elements) || !b.elements.length || b.elements.length > 25) p.push(`${w}: 1..25 elements`);
      const ids = new Set<string>();
      for (const e of b.elements ?? []) {
        if (e.type !== 'button') p.push(`${w}: only buttons expected`);
        checkText(p, `${w}.button`, e.text, 75, ['plain_text']);
        if (typeof e.action_id !== 'string' || !e.action_id || e.action_id.length > 255) p.push(`${w}: action_id 1..255`);
        if (ids.has(e.action_id)) p.push(`${w}: duplicate action_id ${e.action_id}`);
        ids.add(e.action_id);
        if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) p.push(`${w}: value <= 2000`);
        if (e.url !== undefined && (typeof e.url !== 'string' || e.url.length > 3000 || !/^https?:\/\//.test(e.url))) p.push(`${w}: url`);
        if (e.style !== undefined && !BUTTON_STYLES.has(e.style)) p.push(`${w}: style`);
      }
    } else if (b.type === 'input') {
      checkText(p, w, b.label, 2000, ['plain_text']);
      if (!b.element?.action_id) p.push(`${w}: element.action_id`);
    } else p.push(`${w}: unexpected block type`);
  });
}

function parseBody(req: http.IncomingMessage, raw: string, p: string[], method: string): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) return JSON.parse(raw || '{}');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    p.push(`${method}: content-type ${type}`);
    return {};
  }
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // The SDK sends nested arguments (blocks, view) as JSON strings, as Slack's form encoding expects.
    args[k] = (k === 'blocks' || k === 'view') && v ? JSON.parse(v) : v;
  }
  return args;
}

export async function startFakeSlack(users: Record<string, string>, token = 'xoxb-test-0000-fake-token'): Promise<FakeSlack> {
  const f: FakeSlack = {
    url: '',
    token,
    users: new Map(Object.entries(users)),
    messages: [],
    calls: [],
    views: [],
    answers: [],
    problems: [],
    mode: 'up',
    failing: new Set(),
    dmsTo: (u) => f.messages.filter((m) => m.user === u),
    close: async () => {},
  };
  let seq = 1000;
  const reply = (res: http.ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    if (f.mode === 'reset') return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (f.mode === '500') {
        res.writeHead(500);
        return void res.end('internal error');
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/hooks/')) {
        f.answers.push(JSON.parse(raw));
        return reply(res, { ok: true });
      }
      const method = url.pathname.replace(/^\/api\//, '');
      if (f.failing.has(method)) {
        res.writeHead(503);
        return void res.end('service unavailable');
      }
      if (req.method !== 'POST') f.problems.push(`${method}: method ${req.method}`);
      if (req.headers.authorization !== `Bearer ${token}`) {
        f.problems.push(`${method}: Authorization header`);
        return reply(res, { ok: false, error: 'not_authed' });
      }
      const args = parseBody(req, raw, f.problems, method);
      f.calls.push({ method, args });
      handle(method, args, res);
    });
  });
  const dmChannel = (user: string) => `D${user.slice(1)}`;
  const handle = (method: string, a: Record<string, any>, res: http.ServerResponse) => {
    if (method === 'users.lookupByEmail') {
      const id = f.users.get(String(a.email));
      return reply(res, id ? { ok: true, user: { id, profile: { email: a.email } } } : { ok: false, error: 'users_not_found' });
    }
    if (method === 'users.info') {
      const email = [...f.users].find(([, id]) => id === a.user)?.[0];
      return reply(
        res,
        email ? { ok: true, user: { id: a.user, deleted: false, profile: { email } } } : { ok: false, error: 'user_not_found' },
      );
    }
    if (method === 'chat.postMessage' || method === 'chat.update') {
      if (typeof a.text !== 'string' || !a.text || a.text.length > 40_000) f.problems.push(`${method}: text (fallback) required`);
      checkBlocks(a.blocks, f.problems);
    }
    if (method === 'chat.postMessage') {
      const toUser = /^U[A-Z0-9]+$/.test(a.channel) ? a.channel : null;
      const m: SlackMessage = {
        channel: toUser ? dmChannel(toUser) : a.channel,
        ts: `${Math.floor(Date.now() / 1000)}.${String(seq++).padStart(6, '0')}`,
        text: a.text,
        blocks: a.blocks,
        updates: 0,
        user: toUser,
      };
      f.messages.push(m);
      return reply(res, { ok: true, channel: m.channel, ts: m.ts, message: { text: m.text } });
    }
    if (method === 'chat.update') {
      const m = f.messages.find((x) => x.channel === a.channel && x.ts === a.ts);
      if (!m) return reply(res, { ok: false, error: 'message_not_found' });
      Object.assign(m, { text: a.text, blocks: a.blocks, updates: m.updates + 1 });
      return reply(res, { ok: true, channel: m.channel, ts: m.ts });
    }
    if (method === 'views.open') {
      if (typeof a.trigger_id !== 'string' || !a.trigger_id.startsWith('trig.')) f.problems.push('views.open: trigger_id');
      const v = a.view;
      if (v?.type !== 'modal' || !v.title || !v.callback_id || (v.private_metadata ?? '').length > 3000)
        f.problems.push('views.open: modal shape');
      checkBlocks(v?.blocks, f.problems);
      f.views.push({ trigger: a.trigger_id, view: v });
      return reply(res, { ok: true, view: { id: `V${seq++}`, ...v } });
    }
    f.problems.push(`unexpected method ${method}`);
    return reply(res, { ok: false, error: 'unknown_method' });
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  f.close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return f;
}

export interface Click {
  user: string;
  action: 'gatehouse_approve' | 'gatehouse_reject';
  requestId: number;
  message?: SlackMessage;
}

/** A block_actions payload as Slack documents it (trimmed of fields Gatehouse does not read). */
export function blockActions(f: FakeSlack, c: Click): Record<string, unknown> {
  const now = (Date.now() / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: { id: c.user, username: c.user.toLowerCase(), name: c.user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: c.message?.ts ?? now, channel_id: c.message?.channel ?? 'D0', is_ephemeral: false },
    trigger_id: `trig.${randomBytes(8).toString('hex')}`,
    team: { id: 'T0001', domain: 'example' },
    channel: { id: c.message?.channel ?? 'D0', name: 'directmessage' },
    message: c.message ? { type: 'message', ts: c.message.ts, text: c.message.text, blocks: c.message.blocks } : undefined,
    response_url: `${f.url.replace(/\/api\/$/, '')}/hooks/${randomBytes(6).toString('hex')}`,
    actions: [{ action_id: c.action, block_id: `gatehouse_${c.requestId}`, value: String(c.requestId), type: 'button', action_ts: now }],
  };
}

export function viewSubmission(user: string, view: Block, comment: string): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: 'T0001', domain: 'example' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    trigger_id: `trig.${randomBytes(8).toString('hex')}`,
    view: {
      ...view,
      id: 'V1',
      state: { values: { comment: { comment: { type: 'plain_text_input', value: comment } } } },
    },
  };
}

/** POSTs a payload to Gatehouse signed as Slack does; `ts`/`secret` can be forged by the test. */
export async function sendSigned(
  endpoint: string,
  secret: string,
  payload: unknown,
  o: { ts?: number; body?: string } = {},
): Promise<{ status: number; text: string }> {
  const body = o.body ?? `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** All text a message shows (header, fields, state), for assertions. */
export const shown = (m: SlackMessage) => JSON.stringify(m.blocks);
/** The action_ids of a message's buttons. */
export const buttons = (m: SlackMessage): string[] =>
  m.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements.map((e: Block) => e.action_id));

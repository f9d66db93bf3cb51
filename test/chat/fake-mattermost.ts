/* eslint-disable @typescript-eslint/no-explicit-any -- Mattermost's JSON, checked field by field */
// A local stand-in for the parts of Mattermost's REST API v4 Gatehouse uses (users/me, users/email/{email},
// users/{id}, channels/direct, posts, PUT posts/{id}), checking the Bearer token, JSON bodies and the
// interactive-message attachment shape; and a click sender that POSTs to the button's integration URL
// with the context from the post, as Mattermost does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MmPost {
  id: string;
  channel_id: string;
  props: any;
  updates: number;
}

export interface FakeMattermost {
  url: string;
  token: string;
  /** email -> user id */
  users: Map<string, string>;
  posts: MmPost[];
  problems: string[];
  dmsTo(user: string): MmPost[];
  close(): Promise<void>;
}

const BOT = 'botuser00000000000000000000'.slice(0, 26);

function checkProps(p: string[], props: any): void {
  const atts = props?.attachments;
  if (!Array.isArray(atts) || atts.length !== 1) return void p.push('props.attachments: one attachment');
  const a = atts[0];
  if (typeof a.fallback !== 'string' || !a.fallback) p.push('attachment.fallback');
  if (!Array.isArray(a.fields)) p.push('attachment.fields');
  for (const f of a.fields ?? []) if (typeof f.title !== 'string' || typeof f.value !== 'string') p.push('attachment.fields: title/value');
  for (const act of a.actions ?? []) {
    if (!act.id || !/^[a-zA-Z0-9]+$/.test(act.id)) p.push(`action.id must be alphanumeric: ${act.id}`);
    if (!act.name) p.push('action.name');
    if (!act.integration?.url || !act.integration?.context) p.push('action.integration url/context');
  }
}

export async function startFakeMattermost(users: Record<string, string>, token = 'mmbottoken0000000000000000'): Promise<FakeMattermost> {
  const f: FakeMattermost = {
    url: '',
    token,
    users: new Map(Object.entries(users)),
    posts: [],
    problems: [],
    dmsTo: (u) => f.posts.filter((x) => x.channel_id === `dm_${u}`),
    close: async () => {},
  };
  let seq = 1;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.headers.authorization !== `Bearer ${token}`) {
        f.problems.push(`${path}: Authorization`);
        return send(401, { id: 'api.context.session_expired.app_error' });
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw && !String(req.headers['content-type']).startsWith('application/json')) f.problems.push(`${path}: content-type`);
      const body = raw ? JSON.parse(raw) : undefined;
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && path === '/api/v4/users/me') return send(200, { id: BOT, username: 'gatehouse' });
      if (req.method === 'GET' && (m = /^\/api\/v4\/users\/email\/(.+)$/.exec(path))) {
        const id = f.users.get(decodeURIComponent(m[1]));
        return id ? send(200, { id, email: decodeURIComponent(m[1]) }) : send(404, { id: 'store.sql_user.missing' });
      }
      if (req.method === 'GET' && (m = /^\/api\/v4\/users\/([a-z0-9]+)$/.exec(path))) {
        const email = [...f.users].find(([, id]) => id === m![1])?.[0];
        return email ? send(200, { id: m[1], email, delete_at: 0 }) : send(404, {});
      }
      if (req.method === 'POST' && path === '/api/v4/channels/direct') {
        if (!Array.isArray(body) || body.length !== 2 || body[0] !== BOT) f.problems.push('channels/direct: [bot id, user id]');
        return send(201, { id: `dm_${body?.[1]}`, type: 'D' });
      }
      if (req.method === 'POST' && path === '/api/v4/posts') {
        if (!body?.channel_id) f.problems.push('posts: channel_id');
        checkProps(f.problems, body?.props);
        const post: MmPost = { id: `post${String(seq++).padStart(22, '0')}`, channel_id: body.channel_id, props: body.props, updates: 0 };
        f.posts.push(post);
        return send(201, { id: post.id, channel_id: post.channel_id });
      }
      if (req.method === 'PUT' && (m = /^\/api\/v4\/posts\/([a-z0-9]+)$/.exec(path))) {
        const post = f.posts.find((x) => x.id === m![1]);
        if (!post) return send(404, {});
        if (body?.id !== post.id) f.problems.push('PUT posts: body.id must match');
        checkProps(f.problems, body?.props);
        Object.assign(post, { props: body.props, updates: post.updates + 1 });
        return send(200, { id: post.id });
      }
      f.problems.push(`unexpected ${req.method} ${path}`);
      return send(404, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f.close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return f;
}

/** Mattermost's callback for a button: POST {user_id, post_id, channel_id, context} to its integration URL. */
export async function clickButton(
  post: MmPost,
  action: 'approve' | 'reject',
  user: string,
  context?: unknown,
): Promise<{ status: number; body: any }> {
  const a = post.props.attachments[0].actions.find((x: any) => x.id === action);
  const res = await fetch(a.integration.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      user_id: user,
      user_name: user,
      channel_id: post.channel_id,
      team_id: 'team1',
      post_id: post.id,
      type: 'button',
      context: context ?? a.integration.context,
    }),
  });
  return { status: res.status, body: await res.json() };
}

export const mmText = (p: MmPost) => JSON.stringify(p.props);

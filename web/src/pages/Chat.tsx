// Chat approvals, for administrators: set up Slack (bot token, signing secret) and Mattermost (server URL,
// bot token), see where each chat must call back and how its outbox is doing, or turn a chat off. Tokens
// and secrets are write-only: the page never receives them back. docs/chat.md walks through the set-up.
import { useState } from 'react';
import type { Static } from '@sinclair/typebox';
import type * as S from '../../../src/api/schemas';
import { del, get, put } from '../api';
import { Field, FormError, Time, useForm, useLoad } from '../ui';

type Settings = Static<typeof S.ChatSettingsView>;
type View = Static<typeof S.ChatProviderView>;

function State({ v, onOff }: { v: View; onOff: () => void }) {
  return (
    <div className="card" aria-label={`${v.provider} status`}>
      <p>
        <strong>{v.configured ? 'On' : 'Not set up'}</strong>
        {v.configured && (
          <>
            {' '}
            — {v.url}, {v.channel ? `also posting to ${v.channel}` : 'direct messages only'}; set by {v.updatedBy} <Time at={v.updatedAt} />
          </>
        )}
      </p>
      <p>
        Callback URL to give {v.provider === 'slack' ? 'the Slack app (Interactivity Request URL)' : 'Mattermost'}:{' '}
        <code className="wrap">{v.interactionsUrl}</code>
      </p>
      {v.outbox && (
        <p>
          Outbox: {v.outbox.queued} queued, {v.outbox.failed} failed{v.outbox.lastError ? ` (last error: ${v.outbox.lastError})` : ''}
        </p>
      )}
      {v.configured && (
        <div className="actions">
          <button type="button" className="danger" onClick={onOff}>
            Turn {v.provider === 'slack' ? 'Slack' : 'Mattermost'} off
          </button>
        </div>
      )}
    </div>
  );
}

function SlackForm({ onSaved }: { onSaved: (s: Settings) => void }) {
  const f = useForm();
  const [botToken, setToken] = useState('');
  const [signingSecret, setSecret] = useState('');
  const [channel, setChannel] = useState('');
  return (
    <form
      className="card"
      aria-label="Set up Slack"
      onSubmit={(e) => {
        e.preventDefault();
        void f.run(async () => {
          onSaved(await put<Settings>('/chat/slack', { botToken, signingSecret, channel: channel || null }));
          setToken('');
          setSecret('');
        });
      }}
    >
      <Field label="Bot token" name="botToken" errors={f.errors} hint="xoxb-…, from the app's OAuth & Permissions page">
        {(p) => <input {...p} type="password" autoComplete="off" value={botToken} onChange={(e) => setToken(e.target.value)} />}
      </Field>
      <Field label="Signing secret" name="signingSecret" errors={f.errors} hint="from the app's Basic Information page">
        {(p) => <input {...p} type="password" autoComplete="off" value={signingSecret} onChange={(e) => setSecret(e.target.value)} />}
      </Field>
      <Field label="Channel (optional)" name="channel" errors={f.errors} hint="#approvals: each request is also posted there">
        {(p) => <input {...p} value={channel} onChange={(e) => setChannel(e.target.value)} />}
      </Field>
      <FormError errors={f.errors} shown={['botToken', 'signingSecret', 'channel']} />
      <div className="actions">
        <button type="submit" disabled={f.busy}>
          Save Slack settings
        </button>
      </div>
    </form>
  );
}

function MattermostForm({ onSaved }: { onSaved: (s: Settings) => void }) {
  const f = useForm();
  const [url, setUrl] = useState('https://');
  const [botToken, setToken] = useState('');
  const [channel, setChannel] = useState('');
  return (
    <form
      className="card"
      aria-label="Set up Mattermost"
      onSubmit={(e) => {
        e.preventDefault();
        void f.run(async () => {
          onSaved(await put<Settings>('/chat/mattermost', { url, botToken, channel: channel || null }));
          setToken('');
        });
      }}
    >
      <Field label="Server URL" name="url" errors={f.errors} hint="https://chat.example.com">
        {(p) => <input {...p} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />}
      </Field>
      <Field label="Bot token" name="botToken" errors={f.errors} hint="the bot account's access token">
        {(p) => <input {...p} type="password" autoComplete="off" value={botToken} onChange={(e) => setToken(e.target.value)} />}
      </Field>
      <Field label="Channel id (optional)" name="channel" errors={f.errors} hint="each request is also posted there">
        {(p) => <input {...p} value={channel} onChange={(e) => setChannel(e.target.value)} />}
      </Field>
      <FormError errors={f.errors} shown={['url', 'botToken', 'channel']} />
      <div className="actions">
        <button type="submit" disabled={f.busy}>
          Save Mattermost settings
        </button>
      </div>
    </form>
  );
}

export function ChatPage() {
  const load = useLoad(() => get<Settings>('/chat'));
  const [saved, setSaved] = useState<string | null>(null);
  const data = load.data;
  const off = async (p: 'slack' | 'mattermost') => {
    if (!confirm(`Turn ${p} approvals off? Messages already posted stay as they are.`)) return;
    await del(`/chat/${p}`);
    setSaved(`${p} approvals are off.`);
    load.reload();
  };
  const onSaved = (what: string) => () => {
    setSaved(`${what} settings saved.`);
    load.reload();
  };
  if (load.error) return <p className="error">{load.error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  return (
    <>
      {saved && (
        <p className="ok" role="status">
          {saved}
        </p>
      )}
      <h2>Slack</h2>
      <State v={data.slack} onOff={() => void off('slack')} />
      <SlackForm onSaved={onSaved('Slack')} />
      <h2>Mattermost</h2>
      <State v={data.mattermost} onOff={() => void off('mattermost')} />
      <MattermostForm onSaved={onSaved('Mattermost')} />
    </>
  );
}

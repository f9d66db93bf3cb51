// Webhooks, for administrators: add (the signing secret shown once), test, remove, and the delivery log
// with status, response code, attempts and next retry. docs/webhooks.md describes the payloads.
import { useState } from 'react';
import type { Static } from '@sinclair/typebox';
import type * as S from '../../../src/api/schemas';
import { del, get, post, qs } from '../api';
import { Field, FormError, Status, Table, Time, Toggle, useForm, useLoad } from '../ui';

type WebhookList = Static<typeof S.WebhookList>;
type Deliveries = Static<typeof S.WebhookDeliveries>;
type Delivery = Static<typeof S.WebhookDelivery>;
type Created = Static<typeof S.WebhookCreated>;

function AddWebhook({ onAdded }: { onAdded: () => void }) {
  const f = useForm();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('https://');
  const [events, setEvents] = useState('approval.*, session.*');
  const [allowHttp, setAllowHttp] = useState(false);
  const [fresh, setFresh] = useState<Created | null>(null);
  return (
    <>
      <form
        className="card"
        aria-label="Add a webhook"
        onSubmit={(e) => {
          e.preventDefault();
          void f.run(async () => {
            const list = events
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean);
            setFresh(await post<Created>('/webhooks', { name, url, events: list, allowHttp }));
            setName('');
            onAdded();
          });
        }}
      >
        <Field label="Name" name="name" errors={f.errors}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="URL" name="url" errors={f.errors} hint="https://, or http to 127.0.0.1 / localhost with plain http allowed">
          {(p) => <input {...p} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />}
        </Field>
        <Field label="Events" name="events" errors={f.errors} hint="comma-separated: *, approval.*, session.*, or exact types">
          {(p) => <input {...p} value={events} onChange={(e) => setEvents(e.target.value)} />}
        </Field>
        <Toggle
          label="Allow plain http to this machine"
          checked={allowHttp}
          onChange={setAllowHttp}
          hint="for a receiver on 127.0.0.1, localhost or [::1]; anywhere else needs https"
        />
        <FormError errors={f.errors} />
        <div className="actions">
          <button type="submit" disabled={f.busy}>
            Add webhook
          </button>
        </div>
      </form>
      {fresh && (
        <p className="ok" role="status">
          Signing secret for {fresh.webhook.name} (shown once; the receiver verifies <code>Gatehouse-Signature</code> with it):{' '}
          <code className="wrap">{fresh.secret}</code>
        </p>
      )}
    </>
  );
}

const code = (d: Delivery) => (d.responseCode === null ? <span className="muted">—</span> : String(d.responseCode));

export function WebhooksPage() {
  const hooks = useLoad(() => get<WebhookList>('/webhooks'));
  const log = useLoad(() => get<Deliveries>(`/webhooks/deliveries${qs({ limit: 50 })}`));
  const [said, setSaid] = useState<string | null>(null);
  const reload = () => {
    hooks.reload();
    log.reload();
  };
  const test = async (name: string) => {
    setSaid(`Sending a ping to ${name}…`);
    const d = await post<Delivery>(`/webhooks/${encodeURIComponent(name)}/test`).catch((e: Error) => e);
    setSaid(
      d instanceof Error ? d.message : `Ping to ${name}: ${d.responseCode ?? 'no response'} (${d.status}${d.error ? `: ${d.error}` : ''})`,
    );
    log.reload();
  };
  const remove = async (name: string) => {
    if (!confirm(`Remove webhook ${name}? Its undelivered events are given up.`)) return;
    await del(`/webhooks/${encodeURIComponent(name)}`);
    reload();
  };
  const items = hooks.data?.items ?? [];
  return (
    <>
      <AddWebhook onAdded={reload} />
      {said && (
        <p className="ok" role="status">
          {said}
        </p>
      )}
      <Table
        label="Webhooks"
        ids={items.map((w) => w.name)}
        head={['Name', 'URL', 'Events', 'Added', 'Actions']}
        empty="No webhooks yet."
        rows={items.map((w) => [
          w.name,
          <code className="wrap">{w.url}</code>,
          w.events.join(', '),
          <Time at={w.createdAt} />,
          <span className="actions">
            <button type="button" className="small" aria-label={`Test webhook ${w.name}`} onClick={() => void test(w.name)}>
              Test
            </button>
            <button type="button" className="small danger" aria-label={`Remove webhook ${w.name}`} onClick={() => void remove(w.name)}>
              Remove
            </button>
          </span>,
        ])}
      />
      <h2>Recent deliveries</h2>
      <div className="actions">
        <button type="button" className="small" onClick={() => log.reload()}>
          Refresh
        </button>
      </div>
      <Table
        label="Recent deliveries"
        ids={(log.data?.items ?? []).map((d) => d.id)}
        head={['Created', 'Webhook', 'Event', 'Status', 'Response', 'Attempts', 'Next retry', 'Delivery id']}
        empty="No deliveries yet."
        rows={(log.data?.items ?? []).map((d) => [
          <Time at={d.createdAt} />,
          d.webhook,
          d.event,
          <span title={d.error ?? undefined}>
            <Status value={d.status} />
          </span>,
          code(d),
          String(d.attempts),
          <Time at={d.nextAttemptAt} />,
          <code>{d.deliveryId}</code>,
        ])}
      />
    </>
  );
}

// How many requests wait for the approver (the navigation's badge and the tab title's "(3)"), and a
// browser notification when a new one arrives while the console is open: only after the user asked
// for it with the button, never prompted on its own.
import { useEffect, useState } from 'react';
import { get } from '../api';
import type { Approval, Me } from '../types';
import { useLive } from '../ui';

const mine = (a: Approval) => a.status === 'waiting' && a.canDecide;

/** The number of requests the caller may decide now. */
export async function waitingCount(): Promise<number> {
  const r = await get<{ items: Approval[] }>('/approvals?scope=to-decide&limit=100');
  return r.items.filter(mine).length;
}

const canNotify = () => typeof Notification !== 'undefined';

function announce(a: Approval): void {
  if (!canNotify() || Notification.permission !== 'granted') return;
  const n = new Notification(`Approval request #${a.id} from ${a.requester}`, {
    body: `${a.account} on ${a.device} (${a.protocol.toUpperCase()})${a.reason ? `: ${a.reason}` : ''}`,
    tag: `gatehouse-approval-${a.id}`,
  });
  n.onclick = () => {
    window.focus();
    location.assign(`/approvals/${a.id}`);
  };
}

/** The live count for approvers (0 for everyone else); announces new requests when allowed. */
export function useWaitingCount(me: Me): number {
  const [n, setN] = useState(0);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!me.roles.approver) return;
    let live = true;
    waitingCount().then(
      (c) => live && setN(c),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [me.user.id, me.roles.approver, tick]);
  useLive((ev, d) => {
    if (!me.roles.approver || (ev !== 'approval' && ev !== 'open')) return;
    const r = d.request as Approval | undefined;
    if (d.type === 'approval.created' && r && mine(r)) announce(r);
    setTick((t) => t + 1);
  });
  return n;
}

/** Asks for the browser's permission to notify, on the user's click only. */
export function NotifyButton() {
  const [perm, setPerm] = useState(() => (canNotify() ? Notification.permission : 'unsupported'));
  if (perm === 'unsupported') return null;
  if (perm === 'granted') return <span className="muted notify-state">Browser notifications on</span>;
  if (perm === 'denied') return <span className="muted notify-state">Notifications are blocked in this browser's settings</span>;
  return (
    <button type="button" className="secondary small" onClick={() => void Notification.requestPermission().then(setPerm)}>
      Notify me of new requests
    </button>
  );
}

// RDP gateway entry point. mstsc and FreeRDP dial GATEHOUSE_RDP_PORT with the one-time ticket from the
// .rdp file's loadbalanceinfo in the X.224 routing token; the gateway checks it, checks the grant again
// and relays to the device. Split by job: x224.ts (the packet), tickets.ts (issue/consume),
// access.ts (decide, ticket issue, the re-check, the .rdp file), connection.ts (one client), relay.ts.
import { listenOrStayOff } from '../listen.js';
import { createServer, type Server } from 'node:net';
import type { Services } from '../../services.js';
import { setLiveRdpPort } from './access.js';
import { handleClient, type GatewayState } from './connection.js';
import { TicketStore } from './tickets.js';
import { AuditQueue } from './audit-queue.js';

export { issueTicket, rdpFile, gatewayAddress, type IssueResult } from './access.js';

export interface RdpGateway {
  port: number;
  close(): Promise<void>;
}

export async function startRdpGateway(s: Services): Promise<RdpGateway | null> {
  const g: GatewayState = {
    s,
    tickets: new TicketStore(s.rdpTickets, () => s.clock.now()),
    audit: new AuditQueue(s),
    live: new Set(),
    relays: new Map(),
    pending: 0,
  };
  const server: Server = createServer((sock) => handleClient(g, sock));
  const port = await listenOrStayOff(s, server, {
    name: 'rdp',
    port: s.config.rdpPort,
    refused: 'rdp gateway could not listen (port busy or not allowed): RDP is off; set GATEHOUSE_RDP_PORT to a free port',
  });
  if (port === null) return null;
  setLiveRdpPort(s, port);
  s.log.info({ rdp: `${s.config.bind}:${port}` }, 'rdp gateway listening');
  return {
    port,
    async close() {
      setLiveRdpPort(s, null);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Live relays keep close() waiting: end them, and let their session rows record why before the database closes.
      const sessions = [...g.relays.values()];
      for (const r of g.relays.keys()) r.close('the gateway is shutting down');
      for (const c of g.live) c.destroy();
      await Promise.all([closed, ...sessions]);
      await g.audit.flushed();
    },
  };
}

import { createServer, type Server } from 'node:http';
import type moleculer from 'moleculer';
import type { Platform } from '../platform.ts';
import { checkReadiness } from './readiness.ts';

/**
 * Health and metrics for a process that runs no gateway (a worker in a cluster): orchestrators
 * still need liveness and readiness, and Prometheus still scrapes it. Same paths and answers as the
 * gateway's; nothing else is served.
 */
export async function startHealthListener(
  platform: Platform,
  broker: moleculer.ServiceBroker,
  address: { host: string; port: number },
): Promise<Server> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: string, type = 'application/json; charset=utf-8') => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    try {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET')
        return send(405, JSON.stringify({ status: 405, title: 'Method Not Allowed' }));
      if (path === '/health/live') return send(200, JSON.stringify({ status: 'ok' }));
      if (path === '/health/ready') {
        const report = await checkReadiness(platform, broker);
        return send(report.status === 'ready' ? 200 : 503, JSON.stringify(report));
      }
      if (path === '/metrics')
        return send(200, await platform.metrics.render(), platform.metrics.contentType);
      return send(404, JSON.stringify({ status: 404, title: 'Not Found' }));
    } catch {
      send(500, JSON.stringify({ status: 500, title: 'Internal Server Error' }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

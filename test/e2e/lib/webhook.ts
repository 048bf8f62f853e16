// A real local HTTP server standing in for webhooks and gates: each path answers with a status the
// test sets, and every request is recorded with its parsed JSON body.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface WebhookServer {
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  /** The status the path answers from now on (default 200). */
  respond(path: string, status: number): void;
  requests(path?: string): readonly RecordedRequest[];
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const statuses = new Map<string, number>();
  const seen: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        // keep raw text
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      const status = statuses.get(path) ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hooks: WebhookServer = {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    respond: (path, status) => void statuses.set(path, status),
    requests: (path) => (path ? seen.filter((r) => r.path === path) : seen),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  onTestFinished(() => hooks.close());
  return hooks;
}

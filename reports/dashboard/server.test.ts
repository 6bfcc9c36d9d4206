import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { VigilError } from '../../protocol/errors.ts';
import { broadcastTo, startDashboardServer, type DashboardServer, type LiveClient } from './server.ts';

const opened: DashboardServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function start(current = (): string => '{"type":"waiting"}'): Promise<DashboardServer> {
  const s = await startDashboardServer({ port: 0, page: '<!doctype html><title>t</title>', current });
  opened.push(s);
  return s;
}

/** A browser: connects to /live and keeps every message. */
async function browser(s: DashboardServer): Promise<{ ws: WebSocket; messages: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/live`);
  const messages: string[] = [];
  ws.on('message', (d) => messages.push(String(d)));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, messages, closed };
}

const until = async (ok: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the dashboard server', () => {
  it('serves its one page on 127.0.0.1 with a policy that allows nothing from elsewhere, and nothing else', async () => {
    const s = await start();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    const page = await fetch(s.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<!doctype html><title>t</title>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${s.url}run.json`)).status).toBe(404);
  });

  it('refuses a Host that is not its own (DNS rebinding), for the page and the socket', async () => {
    const s = await start();
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve) => request({ host: '127.0.0.1', port: s.port, path: '/', headers: { host: 'evil.example:80' } }, (res) => resolve(res.statusCode ?? 0)).end());
    expect(status).toBe(403);
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/live`, { headers: { host: 'evil.example' } });
    await expect(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))).rejects.toThrow(/401|403/);
  });

  it('gives a browser the current state as it connects, then every broadcast, to many browsers; one leaving is no error', async () => {
    let state = 'one';
    const s = await start(() => state);
    const a = await browser(s);
    await until(() => a.messages.length === 1);
    state = 'two';
    const b = await browser(s);
    await until(() => b.messages.length === 1);
    expect(a.messages).toEqual(['one']);
    expect(b.messages).toEqual(['two']);
    expect(s.broadcast('three')).toEqual({ sent: 2, skipped: 0 });
    await until(() => a.messages.length === 2 && b.messages.length === 2);
    a.ws.terminate();
    await until(() => s.clients === 1);
    expect(s.broadcast('four')).toEqual({ sent: 1, skipped: 0 });
    await until(() => b.messages.length === 3);
    expect(b.messages).toEqual(['two', 'three', 'four']);
  });

  it('skips a browser that has not taken the last message yet, and never queues for it', async () => {
    const s = await start(() => 'hello');
    const slow = await browser(s);
    await until(() => slow.messages.length === 1);
    // The browser stops reading: the kernel's buffers fill, then the server's socket holds the rest.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'x'.repeat(8 * 1024 * 1024);
    const counts = Array.from({ length: 6 }, () => s.broadcast(big));
    expect(counts[0]).toEqual({ sent: 1, skipped: 0 });
    expect(counts.filter((c) => c.skipped === 1).length).toBeGreaterThan(0);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const sent = counts.reduce((n, c) => n + c.sent, 0);
    await until(() => slow.messages.length === 1 + sent, 5000);
    expect(sent).toBeLessThan(6);
  });

  it('broadcastTo sends only to open clients with nothing left to write', () => {
    const got: string[] = [];
    const client = (name: string, readyState: number, bufferedAmount: number): LiveClient => ({ readyState, bufferedAmount, send: () => void got.push(name) });
    const count = broadcastTo([client('idle', WebSocket.OPEN, 0), client('busy', WebSocket.OPEN, 1), client('closing', WebSocket.CLOSING, 0)], 'm');
    expect(count).toEqual({ sent: 1, skipped: 1 });
    expect(got).toEqual(['idle']);
  });

  it('finish: the last message to every browser, a clean close (1000), then the server is gone', async () => {
    const s = await start();
    const a = await browser(s);
    const b = await browser(s);
    await s.finish('final');
    expect(await a.closed).toBe(1000);
    expect(await b.closed).toBe(1000);
    expect(a.messages.at(-1)).toBe('final');
    expect(b.messages.at(-1)).toBe('final');
    await expect(fetch(s.url)).rejects.toThrow();
  });

  it('a browser that joins while the others close gets the last message too; none keeps the server past its grace', async () => {
    const s = await start(() => 'live');
    const stuck = await browser(s);
    // This one never answers the close: the server waits for it, at most its grace period.
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const began = Date.now();
    const finished = s.finish('final');
    const late = await browser(s);
    expect(await late.closed).toBe(1000);
    expect(late.messages).toEqual(['final']);
    await finished;
    expect(Date.now() - began).toBeLessThan(3000);
    await expect(fetch(s.url)).rejects.toThrow();
  });

  it('a port in use: a VigilError naming the port and the fix', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const err = await startDashboardServer({ port, page: '', current: () => '' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VigilError);
      expect((err as VigilError).code).toBe('VIGIL_DASHBOARD_PORT');
      expect((err as VigilError).oneLine()).toBe(`--dashboard: port ${port} on 127.0.0.1 is in use (another dashboard or program listens there) — pass another port (--dashboard ${port + 1}), or --dashboard 0 for any free one [VIGIL_DASHBOARD_PORT]`);
    } finally {
      taken.close();
    }
  });
});

import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBindings, RawTcp, rawTcpAvailable, type RawTcpOwner } from './raw-tcp.ts';
import { sleep, until } from '../../test/support/until.ts';

const open: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** A loopback server that keeps what each connection sent, and its sockets to answer or drop. */
async function server(): Promise<{ port: number; got: Buffer[]; sockets: Socket[]; ended: number; srv: Server }> {
  const s = { port: 0, got: [] as Buffer[], sockets: [] as Socket[], ended: 0, srv: createServer() };
  s.srv.on('connection', (sock) => {
    const i = s.sockets.push(sock) - 1;
    s.got[i] = Buffer.alloc(0);
    sock.on('data', (b) => { s.got[i] = Buffer.concat([s.got[i] as Buffer, b]); });
    sock.on('end', () => { s.ended++; sock.end(); });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => s.srv.listen(0, '127.0.0.1', r));
  s.port = (s.srv.address() as { port: number }).port;
  open.push(() => new Promise<void>((r) => {
    for (const sock of s.sockets) sock.destroy();
    s.srv.close(() => r());
  }));
  return s;
}

/** An owner that writes down what its connection told it. */
function owner(): RawTcpOwner & { read: Buffer; errors: Error[]; closes: number; log: string[] } {
  const o = {
    read: Buffer.alloc(0), errors: [] as Error[], closes: 0, log: [] as string[],
    rawRead: (_c: RawTcp, buf: Buffer, n: number) => {
      o.read = Buffer.concat([o.read, buf.subarray(0, n)]); // the buffer is shared: copy what is kept
      o.log.push('read');
    },
    rawError: (_c: RawTcp, err: Error) => { o.errors.push(err); o.log.push('error'); },
    rawClosed: () => { o.closes++; o.log.push('closed'); },
  };
  return o;
}

function dial(port: number, o: RawTcpOwner): RawTcp {
  const c = new RawTcp('127.0.0.1', port, o);
  open.push(() => c.destroy());
  return c;
}

describe('RawTcp: a TCP connection on node\'s bare handle', () => {
  it('is offered for addresses, not for names that need a lookup, nor when VIGIL_NET_SOCKETS=1', () => {
    expect(rawTcpAvailable('127.0.0.1')).toBe(true);
    expect(rawTcpAvailable('::1')).toBe(true);
    expect(rawTcpAvailable('localhost')).toBe(false);
    expect(rawTcpAvailable('broker.example')).toBe(false);
    process.env.VIGIL_NET_SOCKETS = '1';
    try {
      expect(rawTcpAvailable('127.0.0.1')).toBe(false);
    } finally {
      delete process.env.VIGIL_NET_SOCKETS;
    }
    expect(rawTcpAvailable('127.0.0.1')).toBe(true);
  });

  it('is not offered where node has no process.binding, or not the parts of it it needs', () => {
    expect(loadBindings()).toBeDefined();
    expect(loadBindings({})).toBeUndefined();
    expect(loadBindings({ binding: () => { throw new Error('DEP0111 thrown (--throw-deprecation)'); } })).toBeUndefined();
    expect(loadBindings({ binding: () => ({}) })).toBeUndefined();
    const nodeBinding = (process as unknown as { binding: (name: string) => Record<string, unknown> }).binding;
    const real = (name: string): Record<string, unknown> => nodeBinding.call(process, name);
    expect(loadBindings({ binding: (name: string) => (name === 'stream_wrap' ? { ...real(name), WriteWrap: undefined } : real(name)) })).toBeUndefined();
    expect(loadBindings({ binding: real })).toBeDefined();
  });

  it('writes made before the connection is up go out first, in order; reads come to the owner', async () => {
    const s = await server();
    const o = owner();
    const c = dial(s.port, o);
    const written: string[] = [];
    c.write(Buffer.from('one,'), () => written.push('one'));
    c.write(Buffer.from('two,'), () => written.push('two'));
    await until(() => s.got[0]?.toString() === 'one,two,');
    c.write(Buffer.from('three'));
    await until(() => s.got[0]?.toString() === 'one,two,three');
    expect(written).toEqual(['one', 'two']);
    (s.sockets[0] as Socket).write('hello');
    await until(() => o.read.toString() === 'hello');
    expect(o.errors).toEqual([]);
    expect(o.closes).toBe(0);
  });

  it('a refused connect is an error as net makes it, then one close', async () => {
    const s = await server();
    const port = s.port;
    await new Promise<void>((r) => s.srv.close(() => r()));
    const o = owner();
    dial(port, o);
    await until(() => o.closes === 1);
    expect(o.log).toEqual(['error', 'closed']);
    expect(o.errors[0]?.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect((o.errors[0] as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('a connect that fails at once is reported as net reports it, after the caller has it; what was written meanwhile is dropped', async () => {
    // TCP to a multicast address: Linux refuses the connect itself (ENETUNREACH), whatever the routes.
    const host = '224.0.0.1';
    const netErr = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s = connect({ host, port: 1883 });
      s.on('error', resolve);
    });
    const o = owner();
    const c = new RawTcp(host, 1883, o);
    c.write(Buffer.from('dropped'));
    expect(o.log).toEqual([]);
    await until(() => o.closes === 1);
    expect(o.log).toEqual(['error', 'closed']);
    // net adds where it was bound (" - Local (0.0.0.0:0)"), which says nothing here.
    expect(o.errors[0]?.message).toBe(`connect ENETUNREACH ${host}:1883`);
    expect(netErr.message.startsWith(`connect ENETUNREACH ${host}:1883`)).toBe(true);
    expect((o.errors[0] as NodeJS.ErrnoException).code).toBe(netErr.code);
  });

  it('the peer closing it closes it, once, with no error', async () => {
    const s = await server();
    const o = owner();
    dial(s.port, o);
    await until(() => s.sockets.length === 1);
    (s.sockets[0] as Socket).end();
    await until(() => o.closes === 1);
    await sleep(50);
    expect(o.closes).toBe(1);
    expect(o.errors).toEqual([]);
  });

  it('destroy() closes it once; nothing is written after it', async () => {
    const s = await server();
    const o = owner();
    const c = dial(s.port, o);
    c.write(Buffer.from('before'));
    await until(() => s.got[0]?.toString() === 'before');
    c.destroy();
    c.destroy();
    c.write(Buffer.from('after'));
    await until(() => o.closes === 1);
    await sleep(50);
    expect(o.closes).toBe(1);
    expect(s.got[0]?.toString()).toBe('before');
  });

  it('destroy() with writes still queued drops them as net does: their callbacks run, and it is no error', async () => {
    const s = await server();
    const o = owner();
    const c = dial(s.port, o);
    await until(() => s.sockets.length === 1);
    // 64 MiB: far more than the loopback's kernel buffers take, so most of it is queued in libuv.
    const chunk = Buffer.alloc(4 << 20, 7);
    const results: (Error | null | undefined)[] = [];
    for (let i = 0; i < 16; i++) c.write(chunk, (err) => results.push(err));
    c.destroy();
    await until(() => o.closes === 1 && results.length === 16);
    expect(o.errors).toEqual([]);
    expect(results.every((r) => r == null)).toBe(true);
    await sleep(50);
    expect(s.got[0]?.length ?? 0).toBeLessThan(64 << 20);
  });

  it('destroySoon() closes it once all that was written has gone, however much is queued', async () => {
    const s = await server();
    const o = owner();
    const c = dial(s.port, o);
    // 8 MiB: more than the kernel's loopback buffers take at once, so libuv queues writes (async).
    const chunk = Buffer.alloc(1 << 20, 7);
    let callbacks = 0;
    for (let i = 0; i < 8; i++) c.write(chunk, () => callbacks++);
    c.destroySoon();
    await until(() => o.closes === 1 && s.ended === 1, 10_000);
    expect(s.got[0]?.length).toBe(8 << 20);
    expect(callbacks).toBe(8);
    expect(o.errors).toEqual([]);
  });
});

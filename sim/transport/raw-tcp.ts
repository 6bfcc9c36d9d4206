/**
 * A plain TCP connection on node's own TCP handle — the `tcp_wrap` binding `net.Socket` is built on —
 * without `net.Socket` around it: for the lean link (lean-link.ts), where a fleet holds 15,000 of them.
 *
 * Why by hand: a `net.Socket` is a Duplex stream, and a connected one keeps ~0.95 KB of heap with
 * its handle (the socket, its readable and writable states, their bound callbacks, its listeners:
 * heap snapshot of a 3,000-device fleet, docs/PERFORMANCE.md); a live device on this file's
 * connection holds ~0.9 KB less, most of what a lean device cost beyond its model (issue 7: ≤ 8 KB
 * per device). A lean link uses none of the streams: it reads into the process's one buffer (net's
 * `onread`), writes whole packets and keeps no queue of its own. No library gives a socket without
 * node's streams; this file uses the handle as `net` does (node's lib/net.js and
 * lib/internal/stream_base_commons.js: connect, read into a user buffer, write, shut down, close),
 * and nothing else of node's internals.
 *
 * `process.binding` is deprecated (DEP0111; documentation-only in node 20, a warning with
 * --pending-deprecation). Where it or the binding is missing, or `VIGIL_NET_SOCKETS=1`,
 * `rawTcpAvailable()` is false and the lean link dials with `net` as before; a name that needs a
 * DNS lookup, and TLS, always go through `net` (tcp_wrap connects to an address, and TLS needs
 * node's TLS socket).
 */
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** What a RawTcp tells its owner; each is called with the connection it is about, as `net` listeners get their socket. */
export interface RawTcpOwner {
  /** `n` bytes came, in `buf[0, n)`: READ_BUFFER, overwritten by the next read. */
  rawRead(conn: RawTcp, buf: Buffer, n: number): void;
  /** A connect, read or write failed (as net's 'error', with the same code and message); rawClosed follows. */
  rawError(conn: RawTcp, err: Error): void;
  /** The connection is closed, whoever closed it: once, after any rawError (as net's 'close'). */
  rawClosed(conn: RawTcp): void;
}

// ---- the bindings, as net.js uses them ---------------------------------------------------------------
interface WriteReq {
  handle: TcpHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  buffer: Buffer | null;
  conn: RawTcp;
  callback: ((err?: Error | null) => void) | undefined;
}
interface Req { oncomplete: (...args: never[]) => void; conn: RawTcp; address?: string; port?: number }
interface TcpHandle {
  connect(req: Req, address: string, port: number): number;
  connect6(req: Req, address: string, port: number): number;
  readStart(): number;
  useUserBuffer(buf: Uint8Array): void;
  writeBuffer(req: WriteReq, buf: Buffer): number;
  shutdown(req: Req): number;
  setNoDelay(on: boolean): number;
  close(cb?: () => void): void;
  onread: (this: TcpHandle, arrayBuffer: unknown) => unknown;
  [CONN]?: RawTcp;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => Req;
  ShutdownWrap: new () => Req;
  WriteWrap: new () => WriteReq;
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** The handle's connection: a symbol property, as net keeps its socket on the handle (`owner_symbol`). */
const CONN = Symbol('raw tcp connection');

/**
 * Where every connection of the process reads: one read at a time on one thread, consumed before
 * the next (net's `onread` with a shared buffer does the same for the lean link's net sockets).
 */
export const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** libuv's end of stream. */
const UV_EOF = -4095;

/**
 * The bindings from `proc.binding`, or undefined where it or any part of them is missing (a node
 * that dropped `process.binding`, `--throw-deprecation`): then every dial goes through `net`.
 * Exported for its test.
 */
export function loadBindings(proc: object = process): Bindings | undefined {
  try {
    const binding = (proc as { binding?: (name: string) => Record<string, unknown> }).binding;
    if (typeof binding !== 'function') return undefined;
    const tcp = binding('tcp_wrap') as { TCP: Bindings['TCP']; TCPConnectWrap: Bindings['TCPConnectWrap']; constants: { SOCKET: number } };
    const stream = binding('stream_wrap') as {
      ShutdownWrap: Bindings['ShutdownWrap']; WriteWrap: Bindings['WriteWrap']; streamBaseState: Int32Array;
      kReadBytesOrError: number; kLastWriteWasAsync: number;
    };
    const b: Bindings = {
      TCP: tcp.TCP, TCPConnectWrap: tcp.TCPConnectWrap, SOCKET: tcp.constants.SOCKET,
      ShutdownWrap: stream.ShutdownWrap, WriteWrap: stream.WriteWrap, state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError, kLastWriteWasAsync: stream.kLastWriteWasAsync,
    };
    const ok = typeof b.TCP === 'function' && typeof b.TCPConnectWrap === 'function' && typeof b.WriteWrap === 'function' &&
      typeof b.ShutdownWrap === 'function' && typeof b.SOCKET === 'number' && b.state instanceof Int32Array &&
      typeof b.kReadBytesOrError === 'number' && typeof b.kLastWriteWasAsync === 'number' &&
      typeof b.TCP.prototype.useUserBuffer === 'function' && typeof b.TCP.prototype.writeBuffer === 'function';
    return ok ? b : undefined;
  } catch {
    return undefined;
  }
}

const B = loadBindings();

/**
 * Whether this node has the handle RawTcp needs, and `host` is an address it can dial without a
 * lookup. `VIGIL_NET_SOCKETS=1` says no for every host: node's `net` sockets everywhere, a way out
 * should a node version's handle behave otherwise than this file expects (read at each dial).
 */
export function rawTcpAvailable(host: string): boolean {
  return B !== undefined && process.env.VIGIL_NET_SOCKETS !== '1' && isIP(host) !== 0;
}

/** An error as net makes one for a failed syscall: `connect ECONNREFUSED 127.0.0.1:1883`, with its code. */
function uvError(status: number, syscall: string, host?: string, port?: number): Error {
  const code = getSystemErrorName(status);
  const where = host === undefined ? '' : ` ${host}:${port}`;
  return Object.assign(new Error(`${syscall} ${code}${where}`), { code, errno: status, syscall, ...(host !== undefined && { address: host, port }) });
}

/** One plain TCP connection. Dialled at construction; writes made before it is up wait in libuv's queue, as net buffers them. */
export class RawTcp {
  /** Undefined from destroy() on: the handle closes once, so the owner hears of the close once. */
  private handle: TcpHandle | undefined;

  constructor(host: string, port: number, private readonly owner: RawTcpOwner) {
    const b = B as Bindings;
    const handle = new b.TCP(b.SOCKET);
    this.handle = handle;
    handle[CONN] = this;
    handle.onread = onRead;
    handle.useUserBuffer(READ_BUFFER);
    const req = new b.TCPConnectWrap();
    req.oncomplete = afterConnect;
    req.conn = this;
    req.address = host;
    req.port = port;
    const err = isIP(host) === 6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    if (err !== 0) {
      // A connect that fails at once (no route, no socket left): as net, it is reported after the
      // caller has its connection back, and nothing is written to it meanwhile — a write would
      // fail too, and its error would hide this one.
      this.handle = undefined;
      process.nextTick(() => {
        this.owner.rawError(this, uvError(err, 'connect', host, port));
        this.closeHandle(handle);
      });
    }
  }

  /** Writes `buf`; `cb` once it is written (node calls a socket's write callback so too). */
  write(buf: Buffer, cb?: (err?: Error | null) => void): void {
    const handle = this.handle;
    if (!handle) return; // as a destroyed net.Socket: nothing more goes out
    const b = B as Bindings;
    const req = new b.WriteWrap();
    req.handle = handle;
    req.oncomplete = afterWrite;
    req.buffer = null;
    req.conn = this;
    req.callback = cb;
    const err = handle.writeBuffer(req, buf);
    if (err !== 0) {
      this.fail(uvError(err, 'write'));
      return;
    }
    // Written now, or queued by libuv (connecting, or the kernel's buffer full): then the bytes must
    // stay alive until it is done, as net keeps them on the request.
    if (b.state[b.kLastWriteWasAsync]) req.buffer = buf;
    else cb?.();
  }

  /** Closed, or closing: nothing more goes out. */
  get destroyed(): boolean {
    return this.handle === undefined;
  }

  /** Closes now; what is still queued is dropped. */
  destroy(): void {
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    this.closeHandle(handle);
  }

  /** Closes once what was written has gone, as net's destroySoon. */
  destroySoon(): void {
    const handle = this.handle;
    if (!handle) return;
    const req = new (B as Bindings).ShutdownWrap();
    req.oncomplete = afterShutdown;
    req.conn = this;
    if (handle.shutdown(req) !== 0) this.destroy();
  }

  /** @internal The handle's callbacks, below. */
  connected(status: number, host: string, port: number): void {
    const handle = this.handle;
    if (!handle) return; // destroyed while connecting
    if (status !== 0) {
      this.fail(uvError(status, 'connect', host, port));
      return;
    }
    handle.setNoDelay(true);
    const err = handle.readStart();
    if (err !== 0) this.fail(uvError(err, 'read'));
  }

  /** @internal */
  read(): void {
    const b = B as Bindings;
    const n = b.state[b.kReadBytesOrError] as number;
    if (n > 0) {
      this.owner.rawRead(this, READ_BUFFER, n);
      return;
    }
    if (n === 0) return;
    // The peer closed (EOF) or the read failed: either way this connection is over, as for net
    // (allowHalfOpen false: a socket ends when its peer does).
    if (n === UV_EOF) this.destroy();
    else this.fail(uvError(n, 'read'));
  }

  /** @internal An error ends the connection; none is reported once it was destroyed, as for net. */
  fail(err: Error): void {
    if (!this.handle) return;
    this.owner.rawError(this, err);
    this.destroy();
  }

  /** Reads nothing more, and tells the owner once the handle is closed. */
  private closeHandle(handle: TcpHandle): void {
    handle.onread = ignoreRead;
    handle.close(() => this.owner.rawClosed(this));
  }
}

function onRead(this: TcpHandle): void {
  this[CONN]?.read();
}

function ignoreRead(): void {}

/** As net's afterConnect: (status, handle, req). */
function afterConnect(status: number, _handle: TcpHandle, req: Req): void {
  req.conn.connected(status, req.address as string, req.port as number);
}

function afterWrite(this: WriteReq, status: number): void {
  this.buffer = null;
  // As net: a write still queued when its connection was destroyed (libuv cancels it) is no error.
  if (this.conn.destroyed) {
    this.callback?.(null);
    return;
  }
  if (status < 0) {
    const err = uvError(status, 'write');
    if (this.callback) this.callback(err);
    this.conn.fail(err);
    return;
  }
  this.callback?.();
}

function afterShutdown(this: Req): void {
  this.conn.destroy();
}

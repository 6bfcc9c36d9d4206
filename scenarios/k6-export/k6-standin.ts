/**
 * Runs an exported k6 script in Node the way k6 would, as far as Vigil's script can tell: each VU
 * in its own `vm` context (k6 gives each VU its own runtime) with no Intl and no TextEncoder (k6's
 * sobek has no Intl; older k6 has no TextEncoder), stand-ins for the modules it imports
 * (`k6/execution`, `k6/timers`, `k6/x/mqtt`), a fake clock, and a stand-in broker + pipeline that
 * records every publish and acknowledges each batch as the pipeline would (highest contiguous seq).
 * For tests: it proves what the script does, not what k6 or xk6-mqtt do.
 */
import vm from 'node:vm';
import { transformSync } from 'esbuild';
import { ackTopic, decodeBatch, encodeAck } from '../../protocol/uplink.ts';

export interface Publish {
  readonly clientId: string;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: number;
}

export interface StandInInstance {
  /** k6's --execution-segment, e.g. "0:1/2"; undefined for a single instance. */
  readonly segment?: string;
  /** VUs k6 gives this instance. */
  readonly vus: number;
}

export interface StandInRun {
  readonly publishes: Publish[];
  /** Client ids each instance connected, by instance. */
  readonly connected: string[][];
  readonly logs: string[];
  /** Whether the script touched Intl or found TextEncoder before its own polyfill. */
  readonly sawIntl: boolean;
}

type Listener = (...args: unknown[]) => void;

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  every?: number;
}

/** One fake clock and timer queue for every VU, in real (wall) milliseconds. */
class FakeTime {
  now: number;
  private timers = new Map<number, Timer>();
  private seq = 0;

  constructor(start: number) {
    this.now = start;
  }

  set(fn: () => void, ms: number, every?: number): number {
    const id = ++this.seq;
    this.timers.set(id, { at: this.now + Math.max(0, ms), seq: id, fn, ...(every === undefined ? {} : { every }) });
    return id;
  }

  clear(id: unknown): void {
    this.timers.delete(id as number);
  }

  /** Fires the earliest timer (advancing the clock to it); false when none is left. */
  fireNext(): boolean {
    let next: [number, Timer] | undefined;
    for (const e of this.timers) if (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq)) next = e;
    if (!next) return false;
    const [id, t] = next;
    this.now = Math.max(this.now, t.at);
    if (t.every === undefined) this.timers.delete(id);
    else t.at += t.every;
    t.fn();
    return true;
  }
}

/** The broker and the pipeline behind it: every publish recorded, every stored batch acked. */
class StandInBroker {
  readonly publishes: Publish[] = [];
  private readonly stored = new Map<string, Set<number>>();
  private readonly acked = new Map<string, number>();

  constructor(private readonly time: FakeTime) {}

  client(clientId: string, connected: string[]): object {
    const listeners = new Map<string, Listener>();
    const fire = (event: string, ...args: unknown[]): void => void this.time.set(() => listeners.get(event)?.(...args), 0);
    const store = (bytes: Uint8Array): number => this.store(clientId, bytes);
    const publishes = this.publishes;
    const time = this.time;
    return {
      on(event: string, fn: Listener): void {
        listeners.set(event, fn);
      },
      connectAsync(): Promise<void> {
        connected.push(clientId);
        fire('connect');
        return Promise.resolve();
      },
      subscribeAsync: (): Promise<void> => Promise.resolve(),
      reconnectAsync(): Promise<void> {
        fire('connect');
        return Promise.resolve();
      },
      endAsync: (): Promise<void> => Promise.resolve(),
      publishAsync(topic: string, payload: ArrayBuffer, opts: { qos: number }): Promise<void> {
        const bytes = new Uint8Array(payload.slice(0));
        publishes.push({ clientId, topic, payload: bytes, qos: opts.qos });
        const ack = store(bytes);
        // The pipeline's ack, a millisecond later (well inside a tick).
        time.set(() => listeners.get('message')?.(ackTopic(clientId), encodeAck(clientId, ack).slice().buffer), 1);
        return Promise.resolve();
      },
    };
  }

  /** Stores a batch; returns the device's highest contiguous seq stored. */
  private store(device: string, payload: Uint8Array): number {
    const seqs = this.stored.get(device) ?? new Set<number>();
    this.stored.set(device, seqs);
    for (const r of decodeBatch(payload, device).records) seqs.add(r.seq);
    let ack = this.acked.get(device) ?? 0;
    while (seqs.has(ack + 1)) ack++;
    this.acked.set(device, ack);
    return ack;
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Runs `script` as k6 would run it on each of `instances` (one k6 process each, in parallel),
 * starting at fake real time `startReal`, until every VU's iteration ends or `limitMs` of fake time.
 */
export async function runInStandIn(script: string, env: Record<string, string>, instances: readonly StandInInstance[], startReal: number, limitMs: number): Promise<StandInRun> {
  const { code } = transformSync(script, { format: 'cjs', target: 'es2020' });
  const time = new FakeTime(startReal);
  const broker = new StandInBroker(time);
  const logs: string[] = [];
  const connected: string[][] = instances.map(() => []);
  let sawIntl = false;
  const iterations: Promise<unknown>[] = [];
  let done = 0;

  instances.forEach((inst, i) => {
    for (let vu = 1; vu <= inst.vus; vu++) {
      const modules: Record<string, unknown> = {
        'k6/execution': {
          vu: { idInInstance: vu },
          instance: { vusInitialized: inst.vus },
          test: { options: inst.segment === undefined ? {} : { executionSegment: inst.segment } },
        },
        'k6/timers': {
          setTimeout: (fn: () => void, ms: number) => time.set(fn, ms),
          clearTimeout: (id: unknown) => time.clear(id),
          setInterval: (fn: () => void, ms: number) => time.set(fn, ms, ms),
          clearInterval: (id: unknown) => time.clear(id),
        },
        'k6/x/mqtt': {
          Client: function Client(this: unknown, opts: { client_id: string }) {
            return broker.client(opts.client_id, connected[i] as string[]);
          },
        },
      };
      const context = vm.createContext({
        __ENV: env,
        console: { log: (...a: unknown[]) => logs.push(a.join(' ')), warn: (...a: unknown[]) => logs.push(a.join(' ')), error: (...a: unknown[]) => logs.push(a.join(' ')) },
      });
      // k6's runtime: no Intl, no TextEncoder/TextDecoder (a fresh context has none of Node's), its clock ours.
      vm.runInContext('delete globalThis.Intl; Date.now = () => __now();', Object.assign(context, { __now: () => time.now }));
      sawIntl ||= vm.runInContext('typeof Intl !== "undefined" || typeof TextEncoder !== "undefined"', context) as boolean;
      const mod = { exports: {} as Record<string, unknown> };
      const require = (name: string): unknown => {
        if (!(name in modules)) throw new Error(`the k6 script imports ${name}, which k6 does not provide`);
        return modules[name];
      };
      vm.runInContext(`(function (require, module, exports) {\n${code}\n})`, context)(require, mod, mod.exports);
      if (vu === 1 && typeof mod.exports.setup === 'function') (mod.exports.setup as () => void)();
      iterations.push((mod.exports.default as () => Promise<unknown>)().then(() => done++));
    }
  });
  const total = iterations.length;
  while (done < total && time.now - startReal < limitMs) {
    if (!time.fireNext()) break;
    await flush();
  }
  await flush();
  if (done < total) throw new Error(`${total - done} of ${total} VUs still running after ${limitMs} ms of fake time`);
  return { publishes: broker.publishes, connected, logs, sawIntl };
}

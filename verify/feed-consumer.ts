/**
 * The harness's own operator-feed client. It must never cause a false PASS: it resumes from its
 * last cursor after any disconnect (no gap), drops replays by alarm id, counts malformed messages
 * instead of crashing, and hands each observation to `onObservation` — which journals it before the
 * ledger counts it (DESIGN.md "The ledger").
 */
import WebSocket from 'ws';
import { decodeFeedMessage, FeedDecodeError, feedUrl } from '../protocol/feed.ts';
import { VigilError } from '../protocol/errors.ts';
import type { TlsMaterial } from '../protocol/tls.ts';
import type { Observation } from './ledger.ts';

export interface FeedConsumerOptions {
  readonly baseUrl: string;
  readonly token: string;
  /** Start after this cursor (the feed head at provisioning). */
  readonly after: number;
  /** Virtual now: when an alarm was received. */
  readonly now: () => number;
  readonly onObservation: (o: Observation) => void;
  /** A message that could not be read: what was wrong, and its start (journaled by the run). */
  readonly onMalformed?: (reason: string, raw: string) => void;
  readonly log?: (line: string) => void;
  /** For a wss:// feed (an https:// pipeline): the CA its certificate is checked against, a client certificate. */
  readonly tls?: TlsMaterial | undefined;
}

/** Malformed messages named in run.json and the report; the rest are counted. */
export const MALFORMED_SAMPLES = 10;

export interface FeedConsumerStats {
  connects: number;
  disconnects: number;
  alarms: number;
  replays: number;
  malformed: number;
  /** The first few malformed messages, for the report. */
  malformedSamples: string[];
}

export class FeedConsumer {
  private ws: WebSocket | undefined;
  private cursor: number;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Real ms before the next reconnect: at once after a connection that worked, then backing off. */
  private retryMs = 0;
  private readonly ids = new Set<string>();
  readonly stats: FeedConsumerStats = { connects: 0, disconnects: 0, alarms: 0, replays: 0, malformed: 0, malformedSamples: [] };

  constructor(private readonly opts: FeedConsumerOptions) {
    this.cursor = opts.after;
  }

  get lastCursor(): number {
    return this.cursor;
  }

  /** Connects; resolves once the first connection is open, rejects when the pipeline refuses it. */
  start(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // Given up: no retry may outlive the refusal (its timer would keep a failed run from exiting).
        void this.stop();
        reject(new VigilError('VIGIL_PIPELINE_UNREACHABLE', `operator feed at ${this.opts.baseUrl} did not answer within ${timeoutMs / 1000} s`, 'check --pipeline and that the pipeline serves /api/v1/feed'));
      }, timeoutMs);
      this.connect((err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  private connect(first?: (err?: Error) => void): void {
    if (this.stopped) return;
    const ws = new WebSocket(feedUrl(this.opts.baseUrl, this.cursor), { headers: { authorization: `Bearer ${this.opts.token}` }, ...this.opts.tls });
    this.ws = ws;
    ws.on('open', () => {
      this.stats.connects++;
      this.retryMs = 0;
      first?.();
      first = undefined;
    });
    ws.on('unexpected-response', (_req, res) => {
      const err = new VigilError('VIGIL_PIPELINE_REJECTED', `operator feed refused the connection: HTTP ${res.statusCode}`, res.statusCode === 401 ? 'pass the pipeline\'s feed token with --token or VIGIL_TOKEN' : 'check --pipeline');
      ws.terminate();
      if (first) {
        first(err);
        first = undefined;
        this.stopped = true;
      }
    });
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('error', (err) => {
      this.opts.log?.(`feed: ${err.message}`);
    });
    ws.on('close', () => {
      if (this.stopped) return;
      this.stats.disconnects++;
      this.opts.log?.(`feed: disconnected, resuming after cursor ${this.cursor}`);
      // Every real millisecond here is `speed` virtual ones of alarm latency: retry at once, then
      // back off (100 ms … 2 s) while the pipeline stays unreachable.
      this.retryTimer = setTimeout(() => this.connect(first), this.retryMs);
      this.retryMs = Math.min(2000, Math.max(100, this.retryMs * 2));
    });
  }

  private onMessage(raw: string): void {
    let msg;
    try {
      msg = decodeFeedMessage(raw);
    } catch (err) {
      const reason = err instanceof FeedDecodeError ? err.reason : String(err);
      this.stats.malformed++;
      if (this.stats.malformedSamples.length < MALFORMED_SAMPLES) this.stats.malformedSamples.push(`${reason}: ${raw.slice(0, 120)}`);
      this.opts.onMalformed?.(reason, raw.slice(0, 120));
      return;
    }
    if (msg.type !== 'alarm') return;
    if (this.ids.has(msg.alarmId)) {
      this.stats.replays++;
      return;
    }
    this.ids.add(msg.alarmId);
    this.cursor = Math.max(this.cursor, msg.cursor);
    this.stats.alarms++;
    this.opts.onObservation({ alarm: msg, receivedAt: this.opts.now() });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
    });
  }
}

/**
 * `vigil run --dashboard [port]` (issue 6, item 3): the live dashboard as one more progress sink
 * (reports/progress-sinks.ts) — fed the same once-a-second sample as the progress line — with its
 * server, and the run's final message (its verdict) when run.json is written.
 */
import type { ProgressSink } from '../progress.ts';
import type { RunResult } from '../run-result.ts';
import { LiveState, type LiveRun } from './live-state.ts';
import { dashboardPage, type DashboardPageInfo } from './page.ts';
import { startDashboardServer } from './server.ts';

export interface Dashboard {
  readonly url: string;
  readonly sink: ProgressSink;
  /** The verdict and run.json's numbers to every browser; then the sockets and the server close. */
  finish(result: RunResult, runDir: string): Promise<void>;
  /** Closes without a verdict (the run could not finish); safe after finish. */
  close(): Promise<void>;
}

/** Starts the server before the run makes any load, so a port in use stops it first (exit 2). */
export async function openDashboard(port: number, page: DashboardPageInfo, run: LiveRun): Promise<Dashboard> {
  const state = new LiveState(run);
  const current = (): string => JSON.stringify(state.message());
  const server = await startDashboardServer({ port, page: dashboardPage(page), current });
  return {
    url: server.url,
    sink: {
      update(sample) {
        state.update(sample);
        // Charts are drawn only for someone to see; a browser that joins later gets the state then.
        if (server.clients > 0) server.broadcast(current());
      },
      // The end of the samples is not the end of the run: the verdict comes with finish().
      end() {},
    },
    finish: (result, runDir) => server.finish(JSON.stringify(state.final(result, runDir))),
    close: () => server.close(),
  };
}

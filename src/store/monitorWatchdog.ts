import type { MongoClient, ServerHeartbeatFailedEvent, ServerHeartbeatStartedEvent, ServerHeartbeatSucceededEvent } from 'mongodb';
import type { Logger } from 'pino';

/** Options of {@link watchServerMonitors}: the client's own timeouts, which bound a heartbeat. */
export interface MonitorWatchdogOptions {
  /** The client's connectTimeoutMS: a polled heartbeat (connect, then hello) ends within twice this. */
  readonly connectTimeoutMS: number;
  /** The client's heartbeatFrequencyMS: a streamed (awaited) heartbeat ends within this plus connectTimeoutMS. */
  readonly heartbeatFrequencyMS: number;
  /** How often the watchdog looks (ms). @default 1000 */
  readonly checkEveryMs?: number;
  readonly logger?: Logger;
}

/** A running watchdog. */
export interface MonitorWatchdog {
  /** Times the client was closed and connected again because a server monitor had stopped. */
  readonly reconnects: number;
  /** Stops watching; waits for a reconnection under way, so the caller can close the client after. */
  stop(): Promise<void>;
}

/** Slack over the driver's own bound before a heartbeat counts as stuck (ms). */
const GRACE_MS = 1000;

/**
 * Reconnects a client whose server monitor has stopped checking its server.
 *
 * The Node driver (seen with 7.9.0 and 7.9.1) can send a heartbeat on the monitor's connection in
 * the moment after that connection's socket was destroyed and before its 'close' event: when a
 * server resets every connection at once (it restarts, a link drops), the pool's connection fails
 * first, marks the server Unknown and asks the monitor for an immediate check. Node's write to a
 * destroyed socket returns false without an error, the driver waits for a 'drain' that never comes
 * (and a destroyed socket's timeout never fires), and the check never ends. The monitor then
 * never checks again, so the server stays Unknown and every operation fails server selection
 * until the process restarts (here, behind a link whose connections were dropped over and over: in three
 * loops of six, after the 4th, 5th and 17th drop).
 *
 * The watchdog notes each heartbeat's start and end (public SDAM events). One still running past
 * what the driver's own timeouts allow, on two looks in a row (so an event loop that stalled past
 * the bound is not taken for a stuck monitor), means the monitor is stuck: the watchdog closes
 * the client and connects it again, which starts new monitors and pools. The collections the
 * store holds keep working (the driver looks its topology up per operation); operations meanwhile
 * fail as the database being unavailable does.
 */
export function watchServerMonitors(client: MongoClient, options: MonitorWatchdogOptions): MonitorWatchdog {
  const running = new Map<string, { readonly startedAt: number; readonly awaited: boolean; suspect: boolean }>();
  const boundOf = (awaited: boolean) => GRACE_MS + (awaited ? options.connectTimeoutMS + options.heartbeatFrequencyMS : 2 * options.connectTimeoutMS);
  let reconnects = 0;
  let stopped = false;
  let reconnecting: Promise<void> | null = null;

  const started = (event: ServerHeartbeatStartedEvent) => running.set(event.connectionId, { startedAt: performance.now(), awaited: event.awaited, suspect: false });
  const ended = (event: ServerHeartbeatSucceededEvent | ServerHeartbeatFailedEvent) => running.delete(event.connectionId);
  client.on('serverHeartbeatStarted', started);
  client.on('serverHeartbeatSucceeded', ended);
  client.on('serverHeartbeatFailed', ended);

  const reconnect = async (address: string, runningMs: number) => {
    reconnects++;
    options.logger?.warn({ server: address, heartbeatRunningMs: Math.round(runningMs) }, 'the database driver stopped checking the server (a heartbeat never ended); reconnecting');
    running.clear();
    await client.close().catch((error: unknown) => options.logger?.debug({ err: error }, 'closing the stuck client failed'));
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await client.connect();
        options.logger?.info({ server: address }, 'the database driver reconnected');
        return;
      } catch (error) {
        options.logger?.debug({ err: error }, 'reconnecting the database driver failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 5000)));
      }
    }
  };

  const look = () => {
    if (stopped || reconnecting !== null) return;
    const now = performance.now();
    for (const [address, heartbeat] of running) {
      if (now - heartbeat.startedAt <= boundOf(heartbeat.awaited)) continue;
      if (!heartbeat.suspect) {
        heartbeat.suspect = true;
        continue;
      }
      reconnecting = reconnect(address, now - heartbeat.startedAt).finally(() => {
        reconnecting = null;
      });
      return;
    }
  };
  const timer = setInterval(look, options.checkEveryMs ?? 1000);
  timer.unref();

  return {
    get reconnects() {
      return reconnects;
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      client.off('serverHeartbeatStarted', started);
      client.off('serverHeartbeatSucceeded', ended);
      client.off('serverHeartbeatFailed', ended);
      await reconnecting;
    },
  };
}

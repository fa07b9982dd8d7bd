import type { Socket } from 'node:net';
import type { MongoClient } from 'mongodb';

interface InternalMonitor {
  connection?: { socket?: Socket } | null;
  requestCheck(): void;
}

/**
 * Recreates on purpose the race that leaves the driver's server monitor stuck for good (see
 * src/store/monitorWatchdog.ts): destroys each monitor's socket and asks it for a check in the
 * same tick, before the socket's 'close' event, so the check writes to a destroyed socket and
 * waits for a 'drain' that never comes. Reaches into the driver's internals (mongodb 7.x): tests
 * only. The monitor ignores a request within 500 ms of its last check: call it later than that.
 * Returns how many monitors it wedged.
 */
export function wedgeServerMonitors(client: MongoClient): number {
  const topology = (client as unknown as { topology?: { s: { servers: Map<string, { monitor?: InternalMonitor }> } } }).topology;
  let wedged = 0;
  for (const server of topology?.s.servers.values() ?? []) {
    const monitor = server.monitor;
    const socket = monitor?.connection?.socket;
    if (monitor === undefined || socket === undefined) continue;
    socket.destroy();
    monitor.requestCheck();
    wedged++;
  }
  return wedged;
}

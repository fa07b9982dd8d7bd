import { loadConfig } from '../../src/config.js';
import { startService } from '../../src/service.js';

// A second replica of the subgraph for the write benchmark, in its own process as deployed: the
// service's own start-up (startService: store with the projection cache, server, repair sweeps)
// on the same database as the bench's replica. Forked by writeRows.ts; replies `{ result: url }`
// once it listens, and stops on `{ kind: 'stop' }`.

/** How the bench starts the replica. */
export interface ReplicaRequest {
  readonly uri: string;
  readonly dbName: string;
  /** The HS256 secret the bench signs its tokens with. */
  readonly secret: string;
}

if (process.send !== undefined) {
  process.once('message', (request: ReplicaRequest) => {
    const config = loadConfig({
      MONGODB_URI: request.uri,
      MONGODB_DB: request.dbName,
      AUTH_JWT_SECRET: request.secret,
      PORT: '0',
      DB_TIMEOUT_MS: '60000',
      LOG_LEVEL: 'silent',
    });
    startService(config, { log: () => {} }).then(
      (service) => {
        process.on('message', (message: { kind?: string }) => {
          if (message.kind === 'stop') void service.stop().finally(() => process.exit(0));
        });
        process.send!({ result: service.url });
      },
      (error: unknown) => process.send!({ error: String(error) }, () => process.exit(1)),
    );
  });
}

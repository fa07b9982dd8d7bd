import { it } from 'vitest';
import { aSetItem } from '../helpers/changes.js';
import { startSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { adminToken } from '../helpers/tokens.js';
it('prints', async () => {
  const sg = await startSupergraph({ catalog: { artists: [{ id: 'a', name: 'a' }], tracks: [] } });
  const admin = await adminToken();
  const r = await postGraphQL(sg.url, `mutation F($c: [ConsentChangeInput!]!) { changeConsents(changes: $c) { revision } }`, { c: [aSetItem('a', 'AI_TRAINING')] }, admin);
  process.stderr.write(`DBG ${JSON.stringify(r)}\n`);
  await sg.stop();
}, 120000);

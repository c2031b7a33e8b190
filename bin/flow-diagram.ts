// Prints the block docs/architecture.md keeps between its flow markers, drawn from
// infra/topology.ts: `npm run docs:flow`.
import { flowBlock } from '../infra/topology-diagram.js';

process.stdout.write(`${flowBlock()}\n`);

import { EventBridgeEventBus } from '../../adapters/aws/eventbridge-event-bus.js';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import type { EventBus } from '../../../shared/ports/event-bus.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { openAwsClients, type AwsAccess, type AwsClients } from './aws-clients.js';
import { readStackOutputs, type StackOutputName, type StackTarget } from './stack.js';

/**
 * What a `--target aws` command works with: the stack it names, the clients to reach it, its
 * outputs and its lake. The CLI loads this module only for such a command, so that the SDK is not
 * loaded on every start (infra/local/cli/target.ts).
 */
export interface AwsSession extends StackTarget {
  readonly clients: AwsClients;
  /** The stack outputs `names`, each checked for its shape (infra/aws/cli/stack.ts). */
  outputs<K extends StackOutputName>(names: readonly K[]): Promise<Record<K, string>>;
  /** The lake in `bucket`, and how to name it to the user. */
  lake(bucket: string): { readonly store: ObjectStore; readonly label: string };
  /** The stack's event bus, to publish on as its functions do. */
  eventBus(name: string): EventBus;
  destroy(): void;
}

export const openAwsSession = (target: StackTarget, access?: AwsAccess): AwsSession => {
  const clients = openAwsClients(target.region, access);
  return {
    stackName: target.stackName,
    stage: target.stage,
    region: target.region,
    clients,
    outputs: (names) => readStackOutputs(clients.cloudFormation, target, names),
    lake: (bucket) => ({
      store: new S3ObjectStore({ client: clients.s3, bucket }),
      label: `s3://${bucket} (stack ${target.stackName}, ${target.region})`,
    }),
    eventBus: (name) => new EventBridgeEventBus({ client: clients.eventBridge(), eventBusName: name }),
    destroy: () => clients.destroy(),
  };
};

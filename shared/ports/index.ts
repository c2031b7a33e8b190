export type { ObjectStore, ObjectInfo, PutOptions } from './object-store.js';
export type { Queue, OutgoingMessage } from './queue.js';
export type { EventBus, BusEvent } from './event-bus.js';
export type { Warehouse, StageLoad, StageSlice, SqlValue } from './warehouse.js';
export type { TransformRunner, TransformRequest } from './transform-runner.js';
export type { Secrets } from './secrets.js';
export { SecretName } from './secrets.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';

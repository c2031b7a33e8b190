import type { ReconcilerSettings } from '../services/reconciler/reconcile.js';
import { defaultReconcilerSettings } from '../services/reconciler/reconcile.js';
import { topology, type Topology } from './topology.js';

/**
 * The reconciler's patience on AWS, from the declared topology: a day's track messages can arrive
 * until the track queue has delivered each of them its last time (maxReceiveCount deliveries a
 * visibility timeout apart, the last one as long as track-attributes' timeout); after that, those
 * still missing were dead-lettered. An event is put again only once the lock has stayed free for
 * TransformQueue's hand-back (docs/reliability.md, "The reconciler").
 */
export const awsReconcilerSettings = (t: Topology = topology): ReconcilerSettings => {
  const queue = t.queues.trackQueue;
  return {
    ...defaultReconcilerSettings,
    tracksGoneAfterMs:
      (queue.maxReceiveCount * queue.visibilityTimeoutSeconds + t.functions.trackAttributes.timeoutSeconds) *
      1000,
    missingTracks: 'dead_lettered',
    // A message TransformQueue handed back for a busy warehouse comes back within its hand-back.
    quietLockMs: ((t.queues.transformQueue.handBackSeconds ?? 60) + 10) * 1000,
  };
};

/**
 * On one machine the reconciler runs holding the home (no other command writes to it), in a
 * process of its own: nothing of an earlier command is still under way, and its in-process queues
 * died with it. So there is no grace, nothing to wait for, and a day's missing tracks were lost
 * with that process.
 */
export const localReconcilerSettings: ReconcilerSettings = {
  ...defaultReconcilerSettings,
  graceMs: 0,
  tracksGoneAfterMs: 0,
  missingTracks: 'lost',
  quietLockMs: 0,
};

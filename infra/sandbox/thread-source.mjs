// The sandbox's thread when chartflow runs from its TypeScript sources (the tests, tsx): Node 20
// does not pass tsx's loader on to a worker thread, so the thread registers it itself, then runs
// the thread's code (thread-main.ts). The build runs dist/sandbox-thread.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./thread-main.ts');

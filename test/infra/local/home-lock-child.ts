// Run by home-lock.test.ts in a child process: `node --import tsx home-lock-child.ts <home> <name> <mode>`.
// It says "ready", waits for "go" on stdin (so that racers start together), takes the home with
// --wait 0 and prints "won" or "lost <why>". Then, by mode: `hold` keeps the lock until stdin ends
// and releases it; `exit` ends with process.exit and no release (the 'exit' event's last resort);
// `forever` keeps it until killed.
import { HomeLock } from '../../../infra/local/home-lock.js';

const [home = '', name = '', mode = 'hold'] = process.argv.slice(2);

process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  let lock: HomeLock;
  try {
    lock = await HomeLock.acquire({ home, command: `racer ${name}`, waitMs: 0, note: () => undefined });
  } catch (error) {
    process.stdout.write(`lost ${(error as Error).name}\n`);
    process.exit(0);
  }
  process.stdout.write('won\n');
  if (mode === 'exit') process.exit(0);
  if (mode === 'hold')
    process.stdin.once('end', async () => {
      await lock.release();
      process.exit(0);
    });
  process.stdin.resume();
});

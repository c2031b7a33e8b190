// Run by fs-object-store.test.ts in a child process: `node --import tsx create-if-absent-racer.ts <root> <racer> <keys>`.
// It says "ready", waits for "go" on stdin so that every racer starts together, then prints its wins.
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';

const [root = '', racer = '', keyCount = '1'] = process.argv.slice(2);
const store = new FsObjectStore({ root });
const keys = Array.from({ length: Number(keyCount) }, (_, i) => `race/key-${i}.json`);

process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const won = await Promise.all(keys.map((key) => store.createIfAbsent(key, `racer ${racer}`)));
  process.stdout.write(`${JSON.stringify(keys.filter((_, i) => won[i]))}\n`);
  process.exit(0);
});

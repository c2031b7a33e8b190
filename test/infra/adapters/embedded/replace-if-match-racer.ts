// Run by fs-object-store.test.ts in a child process: `node --import tsx replace-if-match-racer.ts <root> <racer> <keys>`.
// Each key holds a stale version when the racers start; each racer reads it, says "ready", waits for
// "go" on stdin so that every racer starts together, then tries to replace it and prints its wins.
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';

const [root = '', racer = '', keyCount = '1'] = process.argv.slice(2);
const store = new FsObjectStore({ root });
const keys = Array.from({ length: Number(keyCount) }, (_, i) => `race/lock-${i}.json`);
const read = await Promise.all(keys.map((key) => store.getWithEtag(key)));

process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const won = await Promise.all(
    keys.map((key, i) => store.replaceIfMatch(key, `racer ${racer}`, read[i]!.etag)),
  );
  process.stdout.write(`${JSON.stringify(keys.filter((_, i) => won[i]))}\n`);
  process.exit(0);
});

// The compiled CLI and bench (docs/architecture.md, "The build"). `npm ci` builds them through
// the package's `prepare` script; `bin/chartflow.js` builds again before it runs when a source the
// build was made from has changed since, so a stale build is never run.
//
//   node bin/build.js            build now
//   node bin/build.js --if-stale build only when a source changed (what bin/chartflow.js does)
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');
/** What the build was made from: each own source with its SHA-256, and when. */
const stampFile = path.join(outdir, 'build.json');
const entryPoints = {
  cli: 'infra/local/cli/main.ts',
  bench: 'bench/run.ts',
  // The sandbox's worker thread (infra/sandbox/thread.ts) starts from a file of its own.
  'sandbox-thread': 'infra/sandbox/thread-main.ts',
  // npm run deploy (docs/aws.md, "npm run deploy").
  deploy: 'infra/aws/deploy/entry.ts',
};

const sha256 = async (file) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/**
 * Whether the build is missing or older than a source it was made from. A source whose time is
 * not newer than the build is taken as unchanged; a newer one (an edit, a checkout) is hashed, so
 * that a checkout which changed nothing does not cost a build.
 */
export const isStale = async () => {
  let stamp;
  try {
    stamp = JSON.parse(await readFile(stampFile, 'utf8'));
  } catch {
    return true;
  }
  const sources = Object.entries(stamp.sources ?? {});
  if (sources.length === 0) return true;
  for (const [source, digest] of sources) {
    const file = path.join(root, source);
    try {
      if ((await stat(file)).mtimeMs <= stamp.builtAtMs) continue;
      if ((await sha256(file)) !== digest) return true;
    } catch {
      return true;
    }
  }
  return false;
};

/**
 * Bundles the CLI and the bench into dist/ with esbuild: our own modules in, packages left to
 * node_modules, each command's heavy parts in chunks loaded when it runs. The files are written
 * to a folder of their own and moved into dist/ one by one, so that two builds at once (tests
 * starting the CLI side by side) never leave a half-written file where a process reads.
 */
export const build = async () => {
  const esbuild = await import('esbuild');
  const startedMs = Date.now();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const own = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
  const sources = { 'bin/build.js': await sha256(fileURLToPath(import.meta.url)) };
  for (const input of own.sort()) {
    const file = path.join(root, input);
    // A source changed while esbuild read it: the next check must build again.
    sources[input] = (await stat(file)).mtimeMs > startedMs ? 'changed during the build' : await sha256(file);
  }

  const staging = path.join(outdir, `.staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  const moves = [];
  for (const file of result.outputFiles) {
    const relative = path.relative(outdir, file.path);
    await mkdir(path.dirname(path.join(staging, relative)), { recursive: true });
    await writeFile(path.join(staging, relative), file.contents);
    moves.push(relative);
  }
  // Chunks first, entries after, the stamp last: whoever sees the new stamp finds the new files.
  moves.sort((a, b) => Number(!a.startsWith('chunks')) - Number(!b.startsWith('chunks')));
  for (const relative of moves) {
    await mkdir(path.dirname(path.join(outdir, relative)), { recursive: true });
    await rename(path.join(staging, relative), path.join(outdir, relative));
  }
  await writeFile(
    path.join(staging, 'build.json'),
    JSON.stringify({ builtAtMs: startedMs, sources }, null, 2),
  );
  await rename(path.join(staging, 'build.json'), stampFile);
  await rm(staging, { recursive: true, force: true });
  // Chunks of earlier builds, once no process started then can still be loading them.
  const kept = new Set(moves);
  const chunks = path.join(outdir, 'chunks');
  for (const name of await readdir(chunks)) {
    const file = path.join(chunks, name);
    if (!kept.has(path.join('chunks', name)) && (await stat(file)).mtimeMs < startedMs - 86_400_000)
      await rm(file);
  }
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  if (!ifStale || (await isStale())) await build();
}

/**
 * dist/cli/main.js, the file `pilotfish` runs: it loads the program (one CommonJS bundle beside
 * it, dist/cli/pilotfish-HASH.js) with V8's code cache for that bundle.
 *
 * Why not let Node load it: Node's module compile cache keeps the code V8 compiled when it first
 * read a module, before it ran. V8 compiles most functions only when they are first called, so a
 * start still compiled every function of the run path (the config parser, pino, the supervisor)
 * from source. The cache here is taken at the end of a `run` (`createCachedData()` after the run),
 * so it holds every function that run called: bench/startup/README.md has what it saves.
 *
 * The cache lives in `.compile-cache` beside dist/cli (Node's compile cache for the chunks loaded
 * later goes there too), or in $PILOTFISH_COMPILE_CACHE; "off" turns both off. Its file name
 * carries the bundle's content hash (in the bundle's name), the Node version, the CPU
 * architecture and the flags Node runs with: V8 itself checks only the source's length and its
 * own flags, so a cache is never offered to a bundle it was not made from. The build fills it
 * with one `run`; a `run` that finds none, or one V8 refuses (another Node, other V8 flags),
 * writes a fresh one as it exits, when it can. Everything here is an optimisation: on any failure the bundle runs without a cache.
 *
 * Built on its own (scripts/build.mjs) and never imported: it imports nothing of Pilotfish.
 */
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import vm = require('node:vm');

const { mkdirSync, readFileSync, renameSync, writeFileSync } = fs;
const { enableCompileCache, Module } = nodeModule;
const { join } = path;
const { Script } = vm;

/** The bundle's file name, set by scripts/build.mjs. */
declare const PILOTFISH_BUNDLE: string;

/** The commands whose run is worth caching: `run` and the forms that mean it (as in cli/main.ts). */
const RUN_FORMS = /^(run|--)$|^--?(config|c)(=|$)/;

function cacheDir(): string | undefined {
  const dir = process.env.PILOTFISH_COMPILE_CACHE;
  if (dir === 'off') return undefined;
  return dir || join(__dirname, '..', '.compile-cache');
}

/**
 * The Node and V8 flags this process runs with, as a short hash: V8 refuses a cache made under
 * other flags, so each set of flags keeps its own file (else two sets would rewrite one in turn).
 */
function flagsKey(): string {
  let hash = 0x811c9dc5; // FNV-1a, 32 bits
  for (const c of `${process.execArgv.join('\0')}\0${process.env.NODE_OPTIONS ?? ''}`) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

function launch(): void {
  const file = join(__dirname, PILOTFISH_BUNDLE);
  const dir = cacheDir();
  // Node's own cache, for what the bundle loads later (a subsystem's chunk); NODE_COMPILE_CACHE,
  // when set, has already enabled it.
  if (dir && process.env.NODE_COMPILE_CACHE === undefined) {
    try {
      enableCompileCache(dir);
    } catch {
      // no cache: Pilotfish starts as it would without one
    }
  }
  const cacheFile = dir ? join(dir, `${PILOTFISH_BUNDLE.replace(/\.js$/, '')}-${process.version}-${process.arch}-${flagsKey()}.code`) : undefined;
  let cachedData: Buffer | undefined;
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // none yet
    }
  }
  const source = readFileSync(file, 'utf8');
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  if (cacheFile && dir && (cachedData === undefined || script.cachedDataRejected) && RUN_FORMS.test(process.argv[2] ?? '')) {
    process.once('exit', () => {
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only image: it runs without
      }
    });
  }
  // A module of Node's CommonJS loader, in its cache under the bundle's name: a chunk loaded
  // later that imports from the bundle gets this instance, not a second copy.
  const bundle = new Module(file, undefined);
  bundle.filename = file;
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  require.cache[file] = bundle;
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: nodeModule.Module,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, __dirname);
  bundle.loaded = true;
}

launch();

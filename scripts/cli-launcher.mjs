// dockfw-lint's executable. The CLI's code is the string below (one CommonJS
// bundle); this loader compiles it through V8's code cache, so that a run on a
// small file (pre-commit runs one per commit) does not spend a third of its
// time parsing and compiling the same code as the run before.
//
// The cache lives in node_modules/.cache/dockfw-lint (the node_modules folder
// that holds this package, or the project's own): whoever may write there may
// already change the code it caches. Its name carries the bundle's content hash,
// Node's version and the architecture, since V8 itself checks only the source's
// length. DOCKFW_LINT_CODE_CACHE=off disables it; DOCKFW_LINT_CODE_CACHE=DIR
// puts it in DIR. Any failure to read or write it just means no cache.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

const SOURCE = /* @@SOURCE@@ */ '';
const BUILD_ID = /* @@BUILD_ID@@ */ '';

const file = fileURLToPath(import.meta.url);

/** node_modules/.cache/dockfw-lint above this file, or beside the project's sources; undefined when there is none. */
function cacheDirectory() {
  const setting = process.env.DOCKFW_LINT_CODE_CACHE;
  if (setting === 'off' || setting === '0') return undefined;
  if (setting) return setting;
  const parts = dirname(file).split(sep);
  const installed = parts.lastIndexOf('node_modules');
  if (installed > 0) return join(parts.slice(0, installed + 1).join(sep), '.cache', 'dockfw-lint');
  const project = join(dirname(dirname(file)), 'node_modules');
  return existsSync(project) ? join(project, '.cache', 'dockfw-lint') : undefined;
}

/**
 * Creates `dir` and up to `levels` missing parents, one level at a time: Node 20's recursive
 * mkdirSync never returns for some paths (under /proc, say).
 */
function makeDirectory(dir, levels = 3) {
  try {
    mkdirSync(dir);
  } catch (error) {
    if (error.code === 'EEXIST') return;
    if (error.code !== 'ENOENT' || levels === 0) throw error;
    makeDirectory(dirname(dir), levels - 1);
    mkdirSync(dir);
  }
}

const directory = cacheDirectory();
const cacheName = `cli-${BUILD_ID}-${process.version}-${process.arch}.v8`;
const cacheFile = directory === undefined ? undefined : join(directory, cacheName);

let cachedData;
if (cacheFile !== undefined) {
  try { cachedData = readFileSync(cacheFile); } catch { /* none yet */ }
}

// Code compiled from the cache has no import() of its own (Node 20): the bundle's one
// import() (src/config/import-module.ts: ajv, config plugins) is this module's.
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __bundleUrl, __loaderImport) {${SOURCE}\n})`, { filename: file, cachedData });

// DEBUG=dockfw-lint says what became of the cache (as src/cli/io.ts's debugging() reads DEBUG).
if ((process.env.DEBUG ?? '').split(',').some((d) => d.trim() === 'dockfw-lint' || d.trim() === '*') && isMainThread) {
  const state = cacheFile === undefined ? 'off' : cachedData === undefined ? 'none yet' : script.cachedDataRejected ? 'rejected' : 'used';
  process.stderr.write(`dockfw-lint: code cache ${state}${cacheFile === undefined ? '' : ` (${cacheFile})`}\n`);
}

// Written once the run is over, so that it holds every function the run compiled. A cache
// made by a short run (--version, --help) holds less than the code itself; a later, longer
// run replaces it. Worker threads (the fleet's) leave it to the main thread.
const partial = cachedData !== undefined && cachedData.length < SOURCE.length;
if (cacheFile !== undefined && isMainThread && (cachedData === undefined || script.cachedDataRejected || partial)) {
  process.once('exit', () => {
    try {
      const data = script.createCachedData();
      if (partial && !script.cachedDataRejected && data.length <= cachedData.length) return;
      makeDirectory(directory);
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(temporary, data);
      renameSync(temporary, cacheFile);
      // Caches of other builds or Node versions would only pile up.
      for (const name of readdirSync(directory)) {
        if (name !== basename(cacheFile) && /^cli-.*\.v8$/.test(name)) unlinkSync(join(directory, name));
      }
    } catch {
      // A read-only install or a full disk: the next run compiles from source, as this one did.
    }
  });
}

const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), import.meta.url, (specifier) => import(specifier));
await module.exports.main();

/**
 * Builds the dashboard (web/ → web/dist) when its sources changed since the last build.
 *   tsx scripts/build-web.ts             build now
 *   tsx scripts/build-web.ts --if-stale  build only when web/dist is missing or older than its sources (npm start)
 * Also writes .gz/.br copies for the server to send, and fails when the initial JavaScript exceeds its budget.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(import.meta.dirname, '..');
const webDir = path.join(root, 'web');
const distDir = path.join(webDir, 'dist');
const stampFile = path.join(distDir, '.build-hash');
/** Gzipped bytes of the JavaScript the first page load needs (entry + its static imports). */
export const initialJsBudget = 250 * 1024;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // dist is the output; screenshots are documentation, not part of the build.
      if (file !== distDir && entry.name !== 'node_modules' && entry.name !== 'screenshots') yield* sourceFiles(file);
    } else {
      yield file;
    }
  }
}

/** Changes whenever a source file, the dependency lock or this script changes. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  const files = [...sourceFiles(webDir), path.join(root, 'package-lock.json'), import.meta.filename].sort();
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    hash.update(path.relative(root, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

function isStale(hash: string): boolean {
  return !fs.existsSync(path.join(distDir, 'index.html')) || !fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== hash;
}

function precompress(): void {
  for (const file of sourceFiles(distDir)) {
    if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
    const content = fs.readFileSync(file);
    if (content.length < 1024) continue;
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(content, { level: 9 }));
    fs.writeFileSync(`${file}.br`, zlib.brotliCompressSync(content, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
}

/** The gzipped size of the scripts index.html loads at once (lazy pages are not counted). */
export function initialJsBytes(): number {
  const html = fs.readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/(?:src|href)="\/app\/(assets\/[^"]+\.js)"/g)].map((match) => match[1]);
  return scripts.reduce((sum, file) => sum + zlib.gzipSync(fs.readFileSync(path.join(distDir, file))).length, 0);
}

export async function buildWeb(): Promise<void> {
  const hash = sourcesHash();
  const { build } = await import('vite');
  await build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
  precompress();
  const initial = initialJsBytes();
  if (initial > initialJsBudget) {
    throw new Error(`initial JavaScript is ${Math.round(initial / 1024)} KB gzipped, over the ${initialJsBudget / 1024} KB budget`);
  }
  fs.writeFileSync(stampFile, hash);
  console.log(`dashboard built in web/dist (initial JavaScript ${Math.round(initial / 1024)} KB gzipped)`);
}

/**
 * One build at a time across processes (test files run side by side, each asking for the dashboard): a directory
 * made atomically is the lock; a lock older than ten minutes was left by a build that died.
 */
async function withBuildLock(work: () => Promise<void>): Promise<void> {
  const lock = path.join(webDir, '.build-lock');
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 600_000) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the dashboard unless web/dist already matches its sources (another process may be building it). */
export async function ensureWebBuilt(): Promise<void> {
  if (!isStale(sourcesHash())) return;
  await withBuildLock(async () => {
    if (isStale(sourcesHash())) await buildWeb();
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const run = process.argv.includes('--if-stale') ? ensureWebBuilt : buildWeb;
  run().catch((error: unknown) => {
    console.error(`building the dashboard failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

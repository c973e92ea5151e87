import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fs from 'node:fs';
import path from 'node:path';
import { errorBody } from '../../http/error-handler.js';

/** Where the dashboard lives; every page is under it, so no dashboard URL can shadow an API or older-system route. */
export const dashboardBase = '/app/';

/** The nearest folder above this file with a package.json: this file runs from src/, or compiled from dist/src/. */
function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const defaultDashboardDir = path.join(projectRoot(), 'web', 'dist');

export type DashboardOptions = {
  /** The built dashboard (`vite build` output). */
  root?: string;
};

// Vite puts content-hashed files under assets/: their content never changes under one name.
const immutable = 'public, max-age=31536000, immutable';
const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

// Ticket ids may contain dots, so only these endings mark a request for a file rather than a page.
const staticFile = /\.(?:js|mjs|css|map|png|svg|ico|jpg|webp|woff2?|webmanifest|txt)$/;

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const notBuilt = `<!doctype html><meta charset="utf-8"><title>Stageline</title>
<p>The dashboard has not been built yet. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it) and reload.</p>
<p>The API is up: see <a href="/docs">/docs</a>.</p>`;

/**
 * Serves the built dashboard under /app/: hashed assets cached for good, anything else under /app/ answers the
 * single-page app's index.html so a reload or shared link opens that page. `/` redirects to the dashboard.
 */
export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions = {}) {
  const root = options.root ?? defaultDashboardDir;
  const built = () => isFile(path.join(root, 'index.html'));
  if (!built()) app.log.warn({ root }, 'dashboard not built: /app/ explains how to build it');

  await app.register(fastifyStatic, {
    root,
    prefix: dashboardBase,
    serve: false,
    preCompressed: true,
    cacheControl: false,
    etag: true,
    lastModified: true,
  });

  const sendIndex = (reply: FastifyReply) => {
    reply.headers({ 'cache-control': 'no-cache', ...securityHeaders });
    if (!built()) return reply.status(503).type('text/html; charset=utf-8').send(notBuilt);
    return reply.sendFile('index.html');
  };

  const hidden = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/', hidden, (_request, reply) => reply.redirect(dashboardBase));
  app.get('/app', hidden, (_request, reply) => reply.redirect(dashboardBase));
  app.get('/app/*', hidden, (request, reply) => {
    const wildcard = (request.params as { '*': string })['*'];
    const relative = path.posix.normalize(`/${wildcard}`).slice(1);
    if (relative !== '' && !relative.startsWith('..') && isFile(path.join(root, relative))) {
      reply.header('cache-control', relative.startsWith('assets/') ? immutable : 'no-cache');
      return reply.sendFile(relative);
    }
    // A missing script or stylesheet must not get HTML back (the browser would report a MIME error, not a 404).
    if (relative.startsWith('assets/') || staticFile.test(relative)) {
      return reply.status(404).send(errorBody('NOT_FOUND', `no file ${dashboardBase}${relative}`, []));
    }
    return sendIndex(reply);
  });
}

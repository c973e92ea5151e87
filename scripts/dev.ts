/**
 * `npm run dev`: the API server (restarting on change) on PORT (default 4040) and the dashboard with hot reload on
 * WEB_PORT (default 5173, open http://localhost:5173/app/), which proxies API calls to the server.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createServer } from 'vite';

const root = path.resolve(import.meta.dirname, '..');
const apiPort = process.env.PORT ?? '4040';
process.env.STAGELINE_API ??= `http://127.0.0.1:${apiPort}`;

const api = spawn(process.execPath, ['--import', 'tsx', '--watch', 'src/server.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PORT: apiPort },
});

const web = await createServer({ configFile: path.join(root, 'web/vite.config.ts') });
await web.listen();
web.printUrls();

const stop = () => {
  api.kill('SIGTERM');
  void web.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
api.on('exit', (code) => {
  if (code !== 0 && code !== null) console.error(`API server exited with code ${code}`);
});

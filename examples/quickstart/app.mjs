// The quickstart app: serves a counter over HTTP and stops cleanly on SIGTERM.
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';

const port = Number(process.env.PORT ?? 8080);
// Loopback by default; a container sets HOST=0.0.0.0 so that its published port reaches the app.
const host = process.env.HOST ?? '127.0.0.1';
const stateDir = process.env.STATE_DIR ?? '/tmp/pilotfish-quickstart';
mkdirSync(stateDir, { recursive: true });
let served = 0;

const server = createServer((req, res) => {
  if (req.url !== '/health') served++;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, served }));
});
server.listen(port, host, () => console.log(`listening on ${host}:${port}`));

process.on('SIGTERM', () => {
  writeFileSync(`${stateDir}/served`, String(served));
  console.log(`SIGTERM: saved state (${served} requests served), closing`);
  server.close(() => process.exit(0));
});

// Prints N distinct free TCP ports on 127.0.0.1, one per line.
// With --pairs, each printed port P also has P+1 free (Vault's dev cluster
// listener binds the API port + 1). All sockets stay open until every port is
// chosen, so the ports are distinct; the usual race with other processes
// between closing and binding remains, and is accepted for tests.
import net from 'node:net';

const args = process.argv.slice(2);
const pairs = args.includes('--pairs');
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 1);

const listen = (port) =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });

const held = [];
const ports = [];
for (let tries = 0; ports.length < count && tries < 200; tries++) {
  const first = await listen(0);
  if (!first) continue;
  const port = first.address().port;
  held.push(first);
  if (pairs) {
    const second = port < 65535 ? await listen(port + 1) : null;
    if (!second) continue;
    held.push(second);
  }
  ports.push(port);
}
for (const server of held) server.close();
if (ports.length < count) {
  console.error(`free-ports: found only ${ports.length} of ${count} free ports`);
  process.exit(1);
}
console.log(ports.join('\n'));

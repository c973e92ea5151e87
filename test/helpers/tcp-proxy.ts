import net from 'node:net';

/**
 * A loopback TCP proxy to a server that a test can cut (every open connection is destroyed and new ones are
 * refused) and restore: a database outage without touching the database server.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (cut) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).on('close', () => upstream.destroy());
    upstream.pipe(client).on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    /** The URL with its host and port replaced by the proxy's. */
    through(url: string): string {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut(): void {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore(): void {
      cut = false;
    },
    async close(): Promise<void> {
      this.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

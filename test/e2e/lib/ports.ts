// Free ports for clients that must be told their port (aria2, Transmission): the kernel picks an
// unused TCP port, and it is kept only if the same UDP port is free too (uTP, DHT and UDP
// trackers use the UDP port of the same number). Both sockets are closed before the client binds:
// a program started a moment later could in principle take the port first, and the client then
// reports that it could not bind, which the driver turns into a clear failure.

import dgram from "node:dgram";
import net from "node:net";

function tcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket({ type: host.includes(":") ? "udp6" : "udp4" });
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port free for both TCP and UDP on each of `hosts` (the addresses the client will bind). */
export async function freePort(...hosts: [string, ...string[]]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tcpPort(hosts[0]);
    let free = await udpFree(hosts[0], port);
    for (const h of hosts.slice(1)) free = free && (await tcpFree(h, port)) && (await udpFree(h, port));
    if (free) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${hosts.join(", ")} after 20 tries`);
}

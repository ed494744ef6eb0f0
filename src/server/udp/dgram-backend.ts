// The portable socket backend: one node:dgram socket per configured address. Answers are
// written into a shared arena rather than fresh Buffers; the arena is only rewound when no
// send is queued, because a queued send still reads from it.

import dgram from "node:dgram";
import { parseIp } from "../../core/address.ts";
import type { LateAnswer, UdpHandler } from "./udp-handler.ts";

const ARENA_SIZE = 256 * 1024;
const ignoreLate: LateAnswer = () => {};

// dgram resolves every destination through dns.lookup, which defers each send to a later tick;
// our destinations are always the IP literals we received from, so answer at once.
const literalLookup: dgram.SocketOptions["lookup"] = (address, _options, callback) => {
  callback(null, address, address.indexOf(":") >= 0 ? 6 : 4);
};

export interface DgramSocketOptions {
  host: string;
  port: number;
  family: 4 | 6;
  receiveBufferSize: number;
  sendBufferSize: number;
}

export interface BoundSocket {
  socket: dgram.Socket;
  address: string;
  port: number;
  family: 4 | 6;
  /** False once the socket has closed. */
  up: boolean;
}

export class DgramBackend {
  private readonly handler: UdpHandler;
  private readonly maxAnswer: number;
  private readonly synchronous: boolean;
  private readonly onError: (err: Error, where: string) => void;
  private readonly sockets: BoundSocket[] = [];
  private arena = Buffer.allocUnsafe(ARENA_SIZE);
  private cursor = 0;
  private readonly addr = new Uint8Array(16);

  constructor(
    handler: UdpHandler,
    synchronous: boolean,
    maxAnswer: number,
    onError: (err: Error, where: string) => void,
  ) {
    this.handler = handler;
    this.synchronous = synchronous;
    this.maxAnswer = maxAnswer;
    this.onError = onError;
  }

  get bound(): readonly BoundSocket[] {
    return this.sockets;
  }

  async listen(o: DgramSocketOptions): Promise<BoundSocket> {
    const socket = dgram.createSocket({
      type: o.family === 6 ? "udp6" : "udp4",
      // Each configured address gets its own socket; a dual-stack [::] would collide with 0.0.0.0.
      ipv6Only: o.family === 6,
      lookup: literalLookup,
      recvBufferSize: o.receiveBufferSize > 0 ? o.receiveBufferSize : undefined,
      sendBufferSize: o.sendBufferSize > 0 ? o.sendBufferSize : undefined,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: o.host, port: o.port, exclusive: true }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    const where = `${o.family === 6 ? `[${o.host}]` : o.host}:${o.port}`;
    socket.on("error", (err) => this.onError(err, where));
    socket.on("message", (msg, rinfo) => this.receive(socket, msg, rinfo));
    const a = socket.address();
    const bound: BoundSocket = { socket, address: a.address, port: a.port, family: o.family, up: true };
    socket.on("close", () => {
      bound.up = false;
    });
    this.sockets.push(bound);
    return bound;
  }

  private receive(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const family = parseIp(rinfo.address, this.addr);
    if (family === 0) return;
    if (this.cursor + this.maxAnswer > this.arena.length) this.rewind(socket);
    const at = this.cursor;
    // Only an asynchronous store answers late; the memory path allocates no closure.
    const late: LateAnswer = this.synchronous
      ? ignoreLate
      : (answer, length) => socket.send(answer, 0, length, rinfo.port, rinfo.address);
    const n = this.handler.handle(msg, family, this.addr, this.arena, at, late);
    if (n <= 0) return;
    this.cursor = at + n;
    socket.send(this.arena, at, n, rinfo.port, rinfo.address);
  }

  private rewind(socket: dgram.Socket): void {
    let queued = 0;
    for (const s of this.sockets) queued += s.socket.getSendQueueCount();
    if (queued > 0 || socket.getSendQueueCount() > 0) this.arena = Buffer.allocUnsafe(ARENA_SIZE);
    this.cursor = 0;
  }

  async close(): Promise<void> {
    // A socket that already closed (see `up`) would throw if closed again.
    const open = this.sockets.filter((s) => s.up);
    await Promise.all(open.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
    this.sockets.length = 0;
  }
}

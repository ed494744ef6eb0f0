// One client connection: bytes in, request heads out, in order (pipelining allowed), with the
// limits that keep a slow or hostile client from holding resources.

import type { Socket } from "node:net";
import { findHeadEnd } from "../../protocol/http/request-head.ts";

/** What a connection asks of its server; implemented by HttpServer. */
export interface ConnectionHost {
  /**
   * Handles the request whose head is `buf[start, end)`; returns false when the connection
   * must not read further requests (it is being closed or handed over).
   */
  handleRequest(conn: HttpConnection, buf: Buffer, start: number, end: number): boolean;
  /** The head grew past the limit before it was complete. */
  headTooLarge(conn: HttpConnection): void;
  closed(conn: HttpConnection): void;
}

const MIN_BUFFER = 4096;
/** Bytes a closing connection may still send before it is cut off. */
const LINGER_MAX_BYTES = 64 * 1024;

export class HttpConnection {
  readonly socket: Socket;
  readonly family: 4 | 6;
  /** The socket peer's address, 16 bytes (IPv4 mapped). */
  readonly peerAddress: Uint8Array;
  private readonly host: ConnectionHost;
  private readonly maxHead: number;
  /** The bytes being processed, so that a hand-over can take what follows the head. */
  private current: Buffer | null = null;
  private currentLength = 0;
  private buf: Buffer | null = null;
  private len = 0;
  /** Where to resume looking for the end of the head, so a trickled head is scanned once. */
  private scanFrom = 0;
  /**
   * Milliseconds (performance.now) when the pending partial head started, 0 when none is
   * pending; when the last bytes arrived; when shoal decided to close, 0 while open. A whole-
   * second clock would let a timeout fire up to a second early.
   */
  headStartedAt = 0;
  lastActive: number;
  closingSince = 0;
  private dropped = 0;
  requests = 0;
  private open = true;
  private paused = false;

  constructor(socket: Socket, family: 4 | 6, peerAddress: Uint8Array, host: ConnectionHost, maxHead: number) {
    this.socket = socket;
    this.family = family;
    this.peerAddress = peerAddress;
    this.host = host;
    this.maxHead = maxHead;
    this.lastActive = performance.now();
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.onDrain());
    socket.on("error", () => {}); // resets and the like: 'close' follows and cleans up
    socket.on("close", () => {
      this.open = false;
      host.closed(this);
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  private onData(chunk: Buffer): void {
    if (!this.open) {
      // Closing: what else arrives is read and dropped, so that the client's end is noticed
      // at once; a client that keeps sending instead is cut off.
      this.dropped += chunk.length;
      if (this.dropped > LINGER_MAX_BYTES) this.socket.destroy();
      return;
    }
    this.lastActive = performance.now();
    if (this.len === 0) {
      // The common case: a whole request in one chunk, no copy.
      this.process(chunk, chunk.length);
      return;
    }
    this.append(chunk);
    this.process(this.buf!, this.len);
  }

  private append(chunk: Buffer): void {
    const need = this.len + chunk.length;
    if (this.buf === null || this.buf.length < need) {
      const next = Buffer.allocUnsafe(Math.max(MIN_BUFFER, need * 2));
      if (this.buf !== null) this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    chunk.copy(this.buf, this.len);
    this.len = need;
  }

  /** Serves every complete head in `data[0, length)` and keeps the rest. */
  private process(data: Buffer, length: number): void {
    let start = 0;
    while (this.open && !this.paused && start < length) {
      const from = Math.max(start, this.scanFrom);
      const end = findHeadEnd(data, from, length);
      if (end < 0) {
        this.scanFrom = Math.max(start, length - 3);
        if (length - start > this.maxHead) {
          this.host.headTooLarge(this);
          return;
        }
        if (this.headStartedAt === 0) this.headStartedAt = performance.now();
        break;
      }
      this.scanFrom = 0;
      this.headStartedAt = 0;
      if (end - start > this.maxHead) {
        this.host.headTooLarge(this);
        return;
      }
      this.requests++;
      this.current = data;
      this.currentLength = length;
      const more = this.host.handleRequest(this, data, start, end);
      this.current = null;
      start = end;
      if (!more) {
        this.len = 0;
        return;
      }
      if (this.socket.writableNeedDrain) {
        // A client that sends and does not read: stop reading until it catches up.
        this.paused = true;
        this.socket.pause();
      }
    }
    this.keep(data, start, length);
  }

  private keep(data: Buffer, start: number, length: number): void {
    const rest = length - start;
    if (!this.open) {
      this.len = 0;
      return;
    }
    if (rest === 0) {
      this.len = 0;
      // Drop a grown buffer once idle, so idle connections stay small.
      if (this.buf !== null && this.buf.length > MIN_BUFFER * 4) this.buf = null;
      return;
    }
    if (this.scanFrom > 0) this.scanFrom -= start;
    if (data === this.buf) {
      if (start > 0) data.copy(data, 0, start, length);
      this.len = rest;
      return;
    }
    this.len = 0;
    this.append(start === 0 && length === data.length ? data : data.subarray(start, length));
  }

  private onDrain(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    if (this.len > 0) this.process(this.buf!, this.len);
  }

  /**
   * Sends `data` and, when `close` is set, ends the connection after it. A closing connection
   * reads and drops what the client still sends (so the answer is not lost to a reset) until
   * the client closes too or the server destroys it a little later.
   */
  send(data: Buffer, close: boolean): void {
    if (!this.open) return;
    if (close) this.close(data);
    else this.socket.write(data);
  }

  close(data?: Buffer): void {
    this.open = false;
    this.headStartedAt = 0;
    this.closingSince = performance.now();
    this.len = 0;
    this.buf = null;
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
  }

  /**
   * Stops reading: the socket now belongs to someone else (a WebSocket upgrade). Returns the
   * bytes received after the head that ends at `headEnd`; call from within handleRequest.
   */
  detach(headEnd: number): Buffer {
    this.open = false;
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("drain");
    this.socket.removeAllListeners("error");
    this.socket.removeAllListeners("close");
    // Back to the paused-mode default, as node:http does before 'upgrade': bytes the new owner
    // puts back with unshift() must wait for its listener, not flow to none.
    (this.socket as { readableFlowing: boolean | null }).readableFlowing = null;
    const data = this.current;
    const rest =
      data !== null && headEnd < this.currentLength
        ? Buffer.from(data.subarray(headEnd, this.currentLength))
        : Buffer.alloc(0);
    this.len = 0;
    this.host.closed(this);
    return rest;
  }

  destroy(): void {
    this.open = false;
    this.socket.destroy();
  }
}

// The UDP tracker: connection ids, bans and statistics around the handler, over dgram sockets.

import type { Clock } from "../../core/clock.ts";
import type { Tracker } from "../../core/tracker.ts";
import { ConnectionIds, randomConnectionIdKey } from "../../protocol/udp/connection-id.ts";
import { UdpStats } from "../../stats/udp-counters.ts";
import { BanList } from "./ban-list.ts";
import { type BoundSocket, DgramBackend } from "./dgram-backend.ts";
import { maxAnswerLength, UdpHandler } from "./udp-handler.ts";

export interface UdpServerOptions {
  /** 16 hex digits, or "" for a random key per process. */
  connectionIdSecret: string;
  banThreshold: number;
  banWindow: number;
  banDuration: number;
  banTableSize: number;
  receiveBufferSize: number;
  sendBufferSize: number;
}

export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

export class UdpServer {
  readonly stats = new UdpStats();
  readonly bans: BanList;
  private readonly clock: Clock;
  private readonly options: UdpServerOptions;
  private readonly backend: DgramBackend;

  constructor(
    tracker: Tracker,
    clock: Clock,
    options: UdpServerOptions,
    onError: (err: Error, where: string) => void,
  ) {
    this.clock = clock;
    this.options = options;
    const key =
      options.connectionIdSecret === ""
        ? randomConnectionIdKey()
        : new Uint8Array(Buffer.from(options.connectionIdSecret, "hex"));
    this.bans = new BanList({
      threshold: options.banThreshold,
      window: options.banWindow,
      duration: options.banDuration,
      tableSize: options.banTableSize,
    });
    const handler = new UdpHandler(tracker, new ConnectionIds(key), this.bans, clock, this.stats);
    this.backend = new DgramBackend(
      handler,
      tracker.store.synchronous,
      maxAnswerLength(tracker.maxNumwant),
      onError,
    );
  }

  get bound(): readonly BoundSocket[] {
    return this.backend.bound;
  }

  listen(address: ListenAddress): Promise<BoundSocket> {
    return this.backend.listen({
      ...address,
      receiveBufferSize: this.options.receiveBufferSize,
      sendBufferSize: this.options.sendBufferSize,
    });
  }

  /** Housekeeping, from the owner's periodic timer. */
  maintain(): void {
    this.bans.prune(this.clock.now);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

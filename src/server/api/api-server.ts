// The API server, apart from the public tracker ports: JSON statistics, Prometheus metrics and
// a health check. It is not on the hot path, so it uses node:http.

import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { flatStats, nestedStats } from "../../stats/json-stats.ts";
import type { StatsSources } from "../../stats/sources.ts";
import { health, type Listener } from "./health.ts";

export interface ApiServerOptions {
  accessTokens: readonly string[];
  sources: StatsSources;
  registry: Registry;
  listeners: () => Listener[];
}

export class ApiServer {
  /** Requests refused for a missing or wrong token. */
  unauthorized = 0;
  private readonly o: ApiServerOptions;
  private readonly tokens: Buffer[];
  private readonly server: http.Server;

  constructor(options: ApiServerOptions) {
    this.o = options;
    this.tokens = options.accessTokens.map((t) => Buffer.from(t));
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) send(res, 500, { error: err.message });
        else res.destroy();
      });
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://api");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      send(res, 405, { error: "method not allowed" });
      return;
    }
    const path = url.pathname;
    if (path.startsWith("/api/")) {
      if (!this.authorized(req, url)) {
        this.unauthorized++;
        res.setHeader("WWW-Authenticate", 'Bearer realm="shoal"');
        send(res, 401, { error: "unauthorized: send Authorization: Bearer <token> or ?token=<token>" });
        return;
      }
      if (path === "/api/v1/stats") {
        send(res, 200, flatStats(this.o.sources));
        return;
      }
      if (path === "/api/v1/stats/nested") {
        send(res, 200, nestedStats(this.o.sources));
        return;
      }
    } else if (path === "/metrics") {
      const text = await this.o.registry.metrics();
      res.writeHead(200, { "Content-Type": this.o.registry.contentType, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : text);
      return;
    } else if (path === "/health") {
      const h = health(this.o.listeners());
      send(res, h.status, h.body);
      return;
    }
    send(res, 404, {
      error: "not found",
      paths: ["/api/v1/stats", "/api/v1/stats/nested", "/metrics", "/health"],
    });
  }

  private authorized(req: http.IncomingMessage, url: URL): boolean {
    if (this.tokens.length === 0) return true;
    const auth = req.headers.authorization;
    const given = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : url.searchParams.get("token");
    if (given === null) return false;
    const g = Buffer.from(given);
    // Constant-time comparison, so response timing does not reveal how much of a token matched.
    return this.tokens.some((t) => t.length === g.length && timingSafeEqual(t, g));
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

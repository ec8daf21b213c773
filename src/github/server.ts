/**
 * The web process's HTTP server: the webhook endpoint (Probot verifies the signature before any handler runs: a
 * missing or wrong signature is answered 400 and reaches no handler), and a health check.
 */
import { createServer, type Server } from "node:http";
import { type ApplicationFunction, createNodeMiddleware, type Probot } from "probot";

export const WEBHOOK_PATH = "/api/github/webhooks";

export async function createWebServer(o: {
  probot: Probot;
  app: ApplicationFunction;
  webhookPath?: string;
}): Promise<Server> {
  const middleware = await createNodeMiddleware(o.app, {
    probot: o.probot,
    webhooksPath: o.webhookPath ?? WEBHOOK_PATH,
  });
  return createServer((req, res) => {
    if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    void middleware(req, res, () => {
      if (!res.headersSent) res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    });
  });
}

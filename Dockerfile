# syntax=docker/dockerfile:1

# Build: compile TypeScript, then keep production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY webhooks ./webhooks
COPY jobs ./jobs
# The Claude Code runtime (AGENT_RUNTIME=claude-code) is an optional, proprietary dependency with a
# ~420 MB binary: an image carries it only when built with --build-arg CLAUDE_CODE=true, so an
# image that is shared never redistributes it by default.
ARG CLAUDE_CODE=false
RUN npm run build && npm prune --omit=dev $([ "$CLAUDE_CODE" = true ] || echo --omit=optional)

# Run: non-root, git for the agent's workspaces, tini to reap the agent's child processes, and the
# agent's sandbox: bubblewrap (unprivileged, in user namespaces; it needs the security options in
# docker-compose.yml), socat for its allowlisting egress proxy, ripgrep for the agent's searches.
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini bubblewrap socat ripgrep \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production DATA_DIR=/data PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/agent-workforce.js"]
CMD ["start"]

# syntax=docker/dockerfile:1

# Node 24 LTS: supported until April 2028 (Node 20's support ended April 2026; Node 22's ends April
# 2027). Dependencies already declare Node >= 22 (cookie, content-type, content-disposition: ESM-only
# modules that CommonJS packages require()). bookworm is the Debian release the tests and the
# seccomp profile in docker/ were checked on. Override with --build-arg NODE_IMAGE=node:22-bookworm-slim.
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: compile TypeScript with every dependency (devDependencies included) from the lock file.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY webhooks ./webhooks
COPY jobs ./jobs
RUN npm run build

# Run: non-root, git for the agent's workspaces, tini to reap the agent's child processes, and the
# agent's sandbox: bubblewrap (unprivileged, in user namespaces; it needs the security options in
# docker-compose.yml), socat for its allowlisting egress proxy, ripgrep for the agent's searches.
FROM ${NODE_IMAGE}
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini bubblewrap socat ripgrep \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production DATA_DIR=/data PORT=3000
WORKDIR /app
# Production dependencies only, installed by npm ci from the same lock file the build used: a
# lock file that does not match package.json fails the image build.
# The Claude Code runtime (AGENT_RUNTIME=claude-code) is an optional, proprietary dependency with a
# ~420 MB binary: an image carries it only when built with --build-arg CLAUDE_CODE=true, so an
# image that is shared never redistributes it by default.
ARG CLAUDE_CODE=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
  npm ci --omit=dev $([ "$CLAUDE_CODE" = true ] || echo --omit=optional) --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/agent-workforce.js"]
CMD ["start"]

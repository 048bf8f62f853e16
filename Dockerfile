# syntax=docker/dockerfile:1
#
# Fledge images, for users with Docker (the tests do not need it):
#   docker build -t ghcr.io/fledge/fledge:0.1.0 .                                  # the operator (default target)
#   docker build --target loadtester -t ghcr.io/fledge/fledge-loadtester:0.1.0 .   # the load tester
# Both run as the non-root user 10001 and work with a read-only root file system (/tmp aside).
# The operator's entrypoint is the fledge binary: flags go in the container's `args`, as for Flagger.
# The loadtester target runs fledge-loadtester (dist/loadtester/main.js). Its built-in generator
# runs `hey` commands; it does not bundle Flagger's other loadtester tools (ghz, kubectl, helm).

ARG NODE_IMAGE=node:24-slim

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Compile TypeScript to dist/ (needs the dev dependencies).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --gid 10001 fledge \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin fledge \
  && printf '#!/bin/sh\nexec node /app/dist/main.js "$@"\n' > /usr/local/bin/fledge \
  && printf '#!/bin/sh\nexec node /app/dist/loadtester/main.js "$@"\n' > /usr/local/bin/fledge-loadtester \
  && chmod 0755 /usr/local/bin/fledge /usr/local/bin/fledge-loadtester
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 10001:10001

# The load tester (Flagger's flagger-loadtester API on -port 9090).
FROM runtime AS loadtester
EXPOSE 9090
ENTRYPOINT ["node", "/app/dist/loadtester/main.js"]

# The operator: /metrics, /healthz and /readyz on -port 8080. Last stage, so the default target.
FROM runtime AS fledge
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/main.js"]

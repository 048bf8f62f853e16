# syntax=docker/dockerfile:1
#
# Fledge images, for users with Docker (the tests do not need it):
#   docker build -t ghcr.io/fledge/fledge:0.1.0 .                                  # the operator (default target)
#   docker build --target loadtester -t ghcr.io/fledge/fledge-loadtester:0.1.0 .   # the load tester
# Both run as the non-root user 10001 and work with a read-only root file system (/tmp aside).
# The operator's entrypoint is the fledge binary: flags go in the container's `args`, as for Flagger.
# The loadtester target runs fledge-loadtester (dist/loadtester/main.js). Its built-in generator
# runs `hey` commands; the image also carries the tools of Flagger's loadtester image that its task
# types run: helm, kubectl and ghz (built from Go modules) and wrk, curl, jq, bats (Debian).

ARG NODE_IMAGE=node:24-slim
ARG GO_IMAGE=golang:1.26-bookworm

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

# Tools of the load tester's tasks, built from their Go modules (versions as test/cluster/versions.env).
FROM ${GO_IMAGE} AS loadtester-tools
ARG HELM_VERSION=v3.19.0
ARG KUBE_VERSION=v1.36.3
ARG GHZ_VERSION=v0.120.0
ENV CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN=/out
RUN go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" \
  && go install -trimpath -ldflags "-s -w" "github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}"
# kubectl's main lives in k8s.io/kubernetes, whose go.mod points its staging modules at ./staging:
# replace each with its published v0.Y.Z twin (as test/cluster/build.sh does).
WORKDIR /build/kubectl
RUN go mod init fledge.local/kubectl-build \
  && go mod edit -require "k8s.io/kubernetes@${KUBE_VERSION}" \
  && gomod=$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p') \
  && for m in $(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}'); do \
       go mod edit -replace "$m=$m@v0.${KUBE_VERSION#v1.}"; \
     done \
  && printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubectl"\n' > tools.go \
  && (go mod tidy -e || true) \
  && go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} -X k8s.io/client-go/pkg/version.gitVersion=${KUBE_VERSION}" \
       -o /out/kubectl k8s.io/kubernetes/cmd/kubectl

# The load tester (Flagger's flagger-loadtester API; the chart passes -port=8080 as Flagger's does).
FROM runtime AS loadtester
USER 0:0
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates curl jq wrk bats \
  && rm -rf /var/lib/apt/lists/*
COPY --from=loadtester-tools /out/helm /out/kubectl /out/ghz /usr/local/bin/
USER 10001:10001
# helm and kubectl keep caches under $HOME; the root file system may be read-only (/tmp is not).
ENV HOME=/tmp
EXPOSE 9090 8080
ENTRYPOINT ["node", "/app/dist/loadtester/main.js"]

# The operator: /metrics, /healthz and /readyz on -port 8080. Last stage, so the default target.
FROM runtime AS fledge
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/main.js"]

# Sluice's image: Node 20, git, and the renderers at the versions stack/toolchain.ts pins
# (test/unit/deploy-files.test.ts keeps the ARGs equal to them), running as a non-root user.
# Build: docker build -t sluice . (or buildah bud -t sluice .)

# Renderers built from their tagged Go modules, as the local toolchain builds them.
FROM golang:1.26-bookworm AS tools
ARG KUSTOMIZE_VERSION=v5.8.1
ARG HELM_VERSION=v3.21.4
ARG GOJQ_VERSION=v0.12.17
ENV CGO_ENABLED=0 GOBIN=/out GOFLAGS=-trimpath
RUN go install -ldflags='-s -w' sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION} \
 && go install -ldflags='-s -w' helm.sh/helm/v3/cmd/helm@${HELM_VERSION} \
 && go install -ldflags='-s -w' github.com/itchyny/gojq/cmd/gojq@${GOJQ_VERSION}
# ApplicationSet and notification templates: Go's text/template with Sprig, as Argo renders them.
COPY stack/gotemplate /src/gotemplate
RUN cd /src/gotemplate && go build -ldflags='-s -w' -o /out/sluice-gotemplate .

# Compiled TypeScript and the prebuilt workflow bundle, then production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY activities activities
COPY api api
COPY cli cli
COPY cmd cmd
COPY domain domain
COPY k8s k8s
COPY stack stack
COPY worker worker
COPY workflows workflows
COPY test test
RUN node node_modules/typescript/bin/tsc -p tsconfig.json \
 && node dist/worker/bundle.js \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# git fetches repositories (ssh for ssh:// and scp-like URLs); nothing else from apt.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 sluice \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/sluice --create-home sluice
COPY --from=tools /out/ /usr/local/bin/
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY k8s/crds k8s/crds
ENV NODE_ENV=production HOME=/var/lib/sluice SLUICE_HOME=/var/lib/sluice SLUICE_API_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8080
CMD ["node", "dist/cmd/main.js"]

# registry-gate: the admission webhook image. Build: docker build -t registry-gate .
# Three stages: compile with the dev dependencies; install the production dependencies alone; run on the current
# Node LTS (26) slim image as a non-root numeric user, with nothing but dist/, node_modules and package.json.

FROM node:26-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:26-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM node:26-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app/package.json ./package.json
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# 65532: the conventional "nonroot" id; numeric so that runAsNonRoot can be verified by the kubelet.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve"]

# changewatch: the service, its dashboard and the simulator, on Node 20.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production KAFKAJS_NO_PARTITIONER_WARNING=1
COPY package.json package-lock.json ./
# Dev dependencies are needed once, to build the dashboard; they are pruned afterwards.
RUN npm ci
COPY . .
RUN npx vite build && npm prune --omit=dev
USER node
EXPOSE 8080
ENV CHANGEWATCH_DATA_DIR=/data
VOLUME ["/data"]
CMD ["node", "--import", "tsx", "server/main.ts"]

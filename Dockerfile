# One image for every Parley service; the compose file picks the module each container runs.

# The browser apps, built from the committed lock file.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir -c constraints.txt .
COPY --from=web /web/dist /app/web/dist
ENV HOST=0.0.0.0 PORT=8080 PARLEY_WEB_DIST=/app/web/dist
EXPOSE 8080
CMD ["python", "-m", "services"]

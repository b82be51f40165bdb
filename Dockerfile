# One image for every Parley service; the compose file picks the module each container runs.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir -c constraints.txt .
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["python", "-m", "services"]

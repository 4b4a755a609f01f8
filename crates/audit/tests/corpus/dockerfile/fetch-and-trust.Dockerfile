FROM debian:12.5
ARG NPM_TOKEN
ARG TOKEN_TTL=3600
ARG CA_BUNDLE_PATH=/etc/ssl/ca.pem
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL https://example.invalid/install.sh | bash
RUN curl -fsSLk https://example.invalid/tool -o /usr/local/bin/tool \
 && chmod 777 /usr/local/bin/tool
RUN echo "never run: curl -k | sh"
RUN --mount=type=cache,target=/var/cache/apt apt-get install -y jq
COPY --chmod=0644 config.ini /etc/app/
COPY deploy/id_rsa /root/.ssh/id_rsa
USER 10001

FROM alpine:3.20
USER app
ADD https://example.invalid/tool.tgz /opt/
ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.invalid/ok.tgz /opt/
ADD config.ini /etc/app/
ADD vendor.tar.gz /opt/
ENV DB_PASSWORD=correct-horse-battery-staple
ARG GITHUB_TOKEN=ghp_literalvalue
ENV API_KEY=${API_KEY}
EXPOSE 8080 22/tcp

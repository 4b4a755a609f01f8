# A base image for others: its triggers run in every child build.
FROM debian:12.5
RUN useradd --system --uid 10001 app
USER 10001
ONBUILD ARG GITHUB_TOKEN
ONBUILD RUN sudo apt-get update
ONBUILD ADD https://example.invalid/setup.sh /setup.sh
ONBUILD COPY .env /app/.env

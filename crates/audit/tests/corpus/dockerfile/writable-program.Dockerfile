# The app owns its own binary: a compromised process can replace it.
FROM debian:12.5 AS build
RUN echo build > /server
FROM debian:12.5
RUN useradd --system --uid 10001 app
COPY --from=build --chown=app:app /server /usr/local/bin/
COPY --chown=app:app config/ /etc/app/
USER app
ENTRYPOINT ["/usr/local/bin/server"]

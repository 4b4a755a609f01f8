# The program stays root's; only the data directory is the app's.
FROM debian:12.5
RUN useradd --system --uid 10001 app
COPY --chmod=755 server /usr/local/bin/server
COPY --chown=app:app data/ /var/lib/app/
USER app
CMD ["/usr/local/bin/server", "--data", "/var/lib/app"]

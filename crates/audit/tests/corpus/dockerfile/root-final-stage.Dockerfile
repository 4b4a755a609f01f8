# hadolint flags the builder's USER root and misses the root final stage.
FROM golang:1.22 AS build
USER root
RUN go build -o /app .
FROM debian:12
COPY --from=build /app /app
CMD ["/app"]

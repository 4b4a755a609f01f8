# Clean: a pinned image, a non-root user, sudo only as text.
FROM alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build
RUN echo "sudo is not used here" && apk add --no-cache sudo
# RUN sudo ls
FROM build
USER 10001:10001

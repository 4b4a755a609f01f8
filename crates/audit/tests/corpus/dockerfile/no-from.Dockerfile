# A Dockerfile whose first instruction is not FROM: docker build refuses it.
ARG BASE=alpine
RUN echo hello

# trivy takes the last USER in the whole file (app) and passes this.
FROM alpine:3.20 AS base
USER root
FROM alpine:3.20 AS tools
USER app
FROM base
CMD ["sh"]

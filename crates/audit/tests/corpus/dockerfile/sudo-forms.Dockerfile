FROM alpine:3.20
USER app
RUN apk add --no-cache curl \
    && /usr/bin/sudo -u app true
RUN <<EOF
set -e
sudo ls
EOF
USER app
RUN ["sudo", "id"]
RUN sh -c 'true && sudo id'
RUN cat <<EOT > /etc/motd
sudo in a heredoc that is a file body, not a command
EOT

#!/usr/bin/env bash
# Fuzz every parser that reads untrusted bytes (cargo-fuzz, no sanitizer:
# stable Rust), each for SECONDS (default 15), seeded with the audit corpus.
# A crash fails the run and leaves its input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-15}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
targets=(dockerfile image_save compose daemon audit_config firewall_policy conntrack api_head api_json proxy_policy proxy_stream proxy_framing proxy_framing_hyper)
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
for t in "${targets[@]}"; do mkdir -p "$seeds/$t"; done
find ../crates/audit/tests/corpus -name '*ockerfile*' -o -name 'Containerfile' | xargs -I{} cp {} "$seeds/dockerfile/" 2>/dev/null || true
cp ../crates/audit/tests/corpus/compose/* "$seeds/compose/"
i=0; for f in $(find ../crates/audit/tests/corpus/daemon -name daemon.json); do cp "$f" "$seeds/daemon/$i.json"; i=$((i+1)); done
# A saved image: manifest, config with history, one layer with a setuid
# file, a key and a whiteout.
( d=$(mktemp -d); mkdir -p "$d/l/usr/bin" "$d/l/k" "$d/s/l1"
  printf x > "$d/l/usr/bin/su"; chmod 4755 "$d/l/usr/bin/su"
  printf -- '-----BEGIN RSA PRIVATE KEY-----\n' > "$d/l/k/id_rsa"; : > "$d/l/k/.wh.gone"
  tar -C "$d/l" -cf "$d/s/l1/layer.tar" .
  printf '{"history":[{"created_by":"|1 TOKEN=x /bin/sh -c sudo curl -k x | sh"},{"created_by":"/bin/sh -c #(nop)  ENV A=1","empty_layer":true}],"rootfs":{"diff_ids":["sha256:aa"]}}' > "$d/s/c.json"
  printf '[{"Config":"c.json","Layers":["l1/layer.tar"]}]' > "$d/s/manifest.json"
  tar -C "$d/s" -cf "$seeds/image_save/1" .; rm -rf "$d" )
printf 'GET\0/v1.41/containers/json?all=1' > "$seeds/api_head/1"
printf 'POST\0/v1.41/containers/x%%2e%%2e/exec' > "$seeds/api_head/2"
printf '{"Image":"x","HostConfig":{"Binds":["/:/h"],"Privileged":true,"CapAdd":["SYS_ADMIN"]}}' > "$seeds/api_json/1"
printf '\x07HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n' > "$seeds/proxy_stream/1"
printf '\x05POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;e\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n' > "$seeds/proxy_framing/1"
tail -c +2 "$seeds/proxy_framing/1" > "$seeds/proxy_framing_hyper/1"  # without the width byte
printf 'GET /a HTTP/1.1\r\nConnection: Content-Length, Host, Upgrade\r\nHost: h\r\nUpgrade: tcp\r\nContent-Length: 19\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n' > "$seeds/proxy_framing_hyper/2"
printf '[[policy]]\nname = "t"\npreset = "read-only"\ndeny = ["containers.*"]\n' > "$seeds/proxy_policy/1"
cargo fuzz build -s none
for t in "${targets[@]}"; do
  echo "== fuzz $t (${secs}s)" >&2
  mkdir -p "corpus/$t"
  cargo fuzz run -s none "$t" "corpus/$t" "$seeds/$t" -- -max_total_time="$secs" -print_final_stats=0 2>&1 \
    | grep -E "^Done|panicked|SUMMARY|Test unit written" >&2
done

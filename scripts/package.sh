#!/usr/bin/env bash
# Build every artifact into dist/: the Debian package, the static binary
# and the two images (dockward-proxy, dockward-firewall), all named with
# the version from Cargo.toml; `dockward --version` adds the git commit.
# Needs: cargo, dpkg-deb, docker (for the images; SKIP_IMAGES=1 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
dist=dist
rm -rf "$dist"
mkdir -p "$dist"
say() { echo "package: $*" >&2; }

# The static binary: glibc linked in (crt-static), since no musl target
# can be installed here. It serves both the package and the images.
say "building the static binary (dockward $version)"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --quiet -p dockward \
  --target x86_64-unknown-linux-gnu --target-dir target/static
bin=target/static/x86_64-unknown-linux-gnu/release/dockward
if ! ldd "$bin" 2>&1 | grep -q 'statically linked'; then
  echo "package: $bin is not static" >&2
  exit 1
fi
cp "$bin" "$dist/dockward-$version-x86_64-linux"
strip "$dist/dockward-$version-x86_64-linux"
bin="$dist/dockward-$version-x86_64-linux"

# The Debian package.
say "building dockward_${version}_amd64.deb"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
gen=$(mktemp -d)
"$bin" generate-docs "$gen" >/dev/null
install -D -m 0755 "$bin" "$root/usr/bin/dockward"
for unit in dockward-firewall.service dockward-proxy.service dockward-audit.service dockward-audit.timer; do
  sed 's|/usr/local/bin/dockward|/usr/bin/dockward|g' "contrib/$unit" > "$gen/$unit"
  install -D -m 0644 "$gen/$unit" "$root/lib/systemd/system/$unit"
done
install -D -m 0644 "$gen/completions/dockward.bash" "$root/usr/share/bash-completion/completions/dockward"
install -D -m 0644 "$gen/completions/_dockward" "$root/usr/share/zsh/vendor-completions/_dockward"
install -D -m 0644 "$gen/completions/dockward.fish" "$root/usr/share/fish/vendor_completions.d/dockward.fish"
mkdir -p "$root/usr/share/man/man1"
for page in "$gen"/man/*.1; do
  gzip -9n < "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"
done
doc="$root/usr/share/doc/dockward"
install -D -m 0644 README.md "$doc/README.md"
for f in docs/*.md; do install -D -m 0644 "$f" "$doc/$(basename "$f")"; done
install -D -m 0644 contrib/firewall.toml "$doc/examples/firewall.toml"
printf 'dockward %s\nLicense: %s\n' "$version" "$(sed -n 's/^license = "\(.*\)"/\1/p' Cargo.toml | head -1)" > "$doc/copyright"
mkdir -p "$root/DEBIAN"
install -m 0755 contrib/deb/postinst "$root/DEBIAN/postinst"
install -m 0755 contrib/deb/postrm "$root/DEBIAN/postrm"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: dockward
Version: $version
Architecture: amd64
Maintainer: dockward developers <dockward@localhost>
Installed-Size: $size
Depends: nftables, conntrack
Recommends: docker.io | docker-ce
Suggests: iptables
Section: admin
Priority: optional
Description: makes a Docker host safe and keeps it safe
 dockward status shows what Docker publishes and who can reach it;
 dockward firewall closes published ports to the outside unless allowed;
 dockward proxy is a Docker API firewall in front of the socket;
 dockward audit checks the daemon, containers, Dockerfiles and compose
 files. The package enables no service: see
 /usr/share/doc/dockward/README.md.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$root" "$dist/dockward_${version}_amd64.deb" >/dev/null

# The images, FROM scratch, from the static binary.
if [ "${SKIP_IMAGES:-}" != 1 ]; then
  for kind in proxy firewall; do
    ctx=$(mktemp -d)
    mkdir -p "$ctx/rootfs/usr/bin" "$ctx/rootfs/tmp" "$ctx/rootfs/run/dockward"
    cp "$bin" "$ctx/rootfs/usr/bin/dockward"
    if [ "$kind" = firewall ]; then
      # nft and conntrack, with what they link.
      for prog in /usr/sbin/nft /usr/sbin/conntrack; do
        cp "$prog" "$ctx/rootfs/usr/bin/"
        for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
          mkdir -p "$ctx/rootfs$(dirname "$lib")"
          cp -L "$lib" "$ctx/rootfs$lib"
        done
      done
    fi
    cp "contrib/$kind-image/Dockerfile" "$ctx/Dockerfile"
    say "building dockward-$kind:$version"
    DOCKER_BUILDKIT=0 docker build -q -t "dockward-$kind:$version" "$ctx" >/dev/null 2>"$ctx/err" \
      || { cat "$ctx/err" >&2; exit 1; }
    rm -rf "$ctx"
    echo "dockward-$kind:$version" >> "$dist/images.txt"
  done
fi
rm -rf "$gen"
ls -l "$dist" >&2

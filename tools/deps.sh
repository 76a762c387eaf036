#!/bin/sh
# Install the Debian packages Cairn needs to build and test, only those that
# are missing. Silent and fast when everything is there. Runs as root (or with
# sudo when available); a fresh Debian machine has empty package lists, so
# `apt-get update` runs once before the first install.
set -eu

PKGS="build-essential pkg-config clang
libevent-dev libjansson-dev librocksdb-dev liburcu-dev libcurl4-openssl-dev
check libseccomp-dev libssl-dev zlib1g-dev
python3 python3-swiftclient swift curl procps iproute2 util-linux"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: missing packages:$missing (run as root or install them)" >&2
        exit 2
    }
    SUDO=sudo
fi
echo "deps: installing:$missing"
# The swift package's maintainer scripts would start Debian's own services;
# keep them down for the duration of the install.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
rc=0
$SUDO apt-get update -qq || rc=$?
[ $rc = 0 ] && { $SUDO apt-get install -y -qq --no-install-recommends $missing || rc=$?; }
[ $made_policy = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
if [ $rc != 0 ]; then
    echo "deps: apt-get failed (exit $rc) installing:$missing" >&2
    exit 2
fi

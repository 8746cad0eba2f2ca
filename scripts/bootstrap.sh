#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine (run as root) for virtcore development:
# the Debian packages the tests use, and a .venv holding every workspace
# distribution installed editable. Idempotent: a second run only verifies.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
    qemu-system-x86 qemu-utils        # real guests and real qemu-img
    swtpm swtpm-tools ovmf            # TPM emulator and UEFI firmware for the QEMU tests
    libvirt0 libvirt-clients python3-libvirt  # libvirt 9.0, the differential-test oracle
    libvirt-daemon libvirt-daemon-driver-qemu # private oracle daemons (secrets, nwfilters, domcaps)
    iproute2 util-linux               # network namespaces, loop devices
)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    [[ $pkg == \#* ]] && continue
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap: missing Debian packages (run as root to install): ${missing[*]}" >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null

# Every workspace distribution, editable: the core (with dev tools) and each backend.
targets=(-e ".[dev]")
for pyproject in backends/*/pyproject.toml; do
    [[ -e $pyproject ]] || continue
    targets+=(-e "$(dirname "$pyproject")")
done
.venv/bin/python -m pip install -q "${targets[@]}"

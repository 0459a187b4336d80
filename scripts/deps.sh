#!/usr/bin/env bash
# Install, from Debian's packages, whatever metasync needs to build and test
# that this machine lacks.  Usage: scripts/deps.sh [build|test]
set -euo pipefail

build_pkgs=(gcc make cmake pkg-config libcjson-dev libsqlite3-dev libssl-dev zlib1g-dev libpq-dev
	libmariadb-dev libnats-dev libyaml-dev libmicrohttpd-dev
	libcurl4-openssl-dev libexpat1-dev)
# clang with libFuzzer and the sanitizer runtimes (libclang-rt-dev) and
# llvm-symbolizer (llvm): scripts/fuzz.sh.  The AWS CLI and boto3: real
# SigV4 signers for test_sigv4 and the clients of metasync serve's tests
# (with curl and openssl, which makes their TLS certificate).  cppcheck and
# clang-tidy: scripts/lint.sh; clang-format: scripts/format.sh.
test_pkgs=(libcmocka-dev sqlite3 jq postgresql-15 mariadb-server nats-server
	awscli python3-boto3 clang libclang-rt-dev llvm curl openssl
	cppcheck clang-tidy clang-format)
# s3rver (the S3 test server) runs on Node.js: the machine's, else Debian's.
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1; then
	test_pkgs+=(nodejs npm)
fi

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
	want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "metasync: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

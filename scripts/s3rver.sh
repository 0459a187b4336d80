#!/usr/bin/env bash
# s3rver, the S3-compatible server the s3:// tests and bench/s3.sh run
# against: installed with npm into build-deps/node (git-ignored, never
# globally) at a pinned version, run with the machine's Node.js on 127.0.0.1
# on a free port, with its data in a directory the caller owns.  Sourced by
# scripts/test-servers.sh and bench/s3.sh; on its own:
#
#   scripts/s3rver.sh install       install (or check) the pinned s3rver
#   scripts/s3rver.sh DIR [CMD...]  start in DIR, run CMD (or wait), stop
#
# ms_s3rver_start DIR exports
#
#   MS_TEST_S3_ENDPOINT    http://127.0.0.1:PORT
#   MS_TEST_S3_URL         s3://metasync-test/ci?endpoint=http://127.0.0.1:PORT
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   S3RVER (s3rver's only account)
#   AWS_DEFAULT_REGION     us-east-1
#
# and ms_s3rver_stop DIR stops it (the pid is checked against DIR first).

MS_S3RVER_VERSION=3.7.1
MS_S3RVER_BUCKET=metasync-test

ms_s3rver_bin() {
	local repo
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	echo "$repo/build-deps/node/node_modules/.bin/s3rver"
}

ms_s3rver_install() {
	local bin dir have
	bin=$(ms_s3rver_bin)
	dir=${bin%/node_modules/.bin/s3rver}
	have=$(node -p "require('$dir/node_modules/s3rver/package.json').version" 2>/dev/null || true)
	[ "$have" = "$MS_S3RVER_VERSION" ] && [ -x "$bin" ] && return 0
	command -v npm >/dev/null 2>&1 || { echo "s3rver: npm is not installed (scripts/deps.sh test)" >&2; return 1; }
	mkdir -p "$dir"
	echo "s3rver: installing s3rver@$MS_S3RVER_VERSION into '$dir'" >&2
	(cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error \
		"s3rver@$MS_S3RVER_VERSION" >/dev/null) || { echo "s3rver: npm install failed" >&2; return 1; }
}

ms_s3rver_start() {
	local dir=$1 bin port i
	ms_s3rver_install || return 1
	bin=$(ms_s3rver_bin)
	mkdir -p "$dir/data"
	# Port 0: the kernel picks a free one, s3rver prints it.
	# s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
	node --openssl-legacy-provider "$(readlink -f "$bin")" -d "$dir/data" -a 127.0.0.1 -p 0 -s \
		--configure-bucket "$MS_S3RVER_BUCKET" </dev/null >"$dir/s3rver.log" 2>&1 &
	echo $! >"$dir/s3rver.pid"
	for i in $(seq 1 300); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$dir/s3rver.log" | head -n1)
		[ -n "$port" ] && break
		if ! kill -0 "$(cat "$dir/s3rver.pid")" 2>/dev/null || [ "$i" -eq 300 ]; then
			cat "$dir/s3rver.log" >&2
			echo "s3rver: did not start" >&2
			return 1
		fi
		sleep 0.1
	done
	MS_TEST_S3_ENDPOINT=http://127.0.0.1:$port
	MS_TEST_S3_URL="s3://$MS_S3RVER_BUCKET/ci?endpoint=$MS_TEST_S3_ENDPOINT"
	AWS_ACCESS_KEY_ID=S3RVER
	AWS_SECRET_ACCESS_KEY=S3RVER
	AWS_DEFAULT_REGION=us-east-1
	export MS_TEST_S3_ENDPOINT MS_TEST_S3_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
}

ms_s3rver_stop() {
	local dir=$1 pid i
	[ -r "$dir/s3rver.pid" ] || return 0
	pid=$(tr -dc 0-9 <"$dir/s3rver.pid")
	[ -n "$pid" ] || return 0
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/data" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	if [ "${1:-}" = install ]; then
		ms_s3rver_install
		exit
	fi
	[ $# -ge 1 ] || { echo "usage: scripts/s3rver.sh install | DIR [CMD...]" >&2; exit 2; }
	MS_S3RVER_DIR=$1
	shift
	trap 'ms_s3rver_stop "$MS_S3RVER_DIR"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ms_s3rver_start "$MS_S3RVER_DIR"
	if [ $# -gt 0 ]; then
		"$@"
	else
		echo "export MS_TEST_S3_URL='$MS_TEST_S3_URL' MS_TEST_S3_ENDPOINT='$MS_TEST_S3_ENDPOINT'"
		echo "export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1"
		while :; do sleep 3600; done
	fi
fi

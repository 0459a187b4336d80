#!/usr/bin/env bash
# clang-format (.clang-format at the top) over the C files of src/, include/,
# tests/ and bench/ that git knows.
# Usage: scripts/format.sh          rewrite the files that differ
#        scripts/format.sh --check  list the files that differ; exit 1 if any
# scripts/deps.sh test installs clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case ${1:-} in
--check) check=1 ;;
"") ;;
*)
	echo "usage: scripts/format.sh [--check]" >&2
	exit 2
	;;
esac
if ! command -v clang-format >/dev/null; then
	echo "format: clang-format is not installed (scripts/deps.sh test installs it)" >&2
	exit 1
fi

differ=0
while IFS= read -r -d '' f; do
	if ! clang-format --style=file "$f" | cmp -s - "$f"; then
		differ=1
		if [ "$check" = 1 ]; then
			echo "$f"
		else
			clang-format --style=file -i "$f"
			echo "format: rewrote $f" >&2
		fi
	fi
done < <(git ls-files -z -- 'src/*.[ch]' 'include/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')
if [ "$check" = 1 ] && [ "$differ" = 1 ]; then
	echo "format: the files above differ from .clang-format's layout (scripts/format.sh rewrites them)" >&2
	exit 1
fi
exit 0

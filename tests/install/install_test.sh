#!/bin/sh
# `cmake --install` into a temporary prefix: the program, header, library,
# pkg-config file, man pages and completions land where they should, and a
# small program builds against the library with pkg-config and runs.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER
set -u
BUILD=$1
SRC=$2
CC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() {
    name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
cmake --install "$BUILD" --prefix "$T/prefix" > "$T/install.log" 2>&1
check "install runs" test $? -eq 0
P="$T/prefix"
check "bin/kindlint" test -x "$P/bin/kindlint"
check "the header" test -f "$P/include/kindlint.h"
check "the library" sh -c "ls '$P'/lib*/libkindlint.a '$P'/lib/*/libkindlint.a 2>/dev/null | grep -q ."
check "man page kindlint(1)" test -f "$P/share/man/man1/kindlint.1"
check "man page kindlint-rules(5)" test -f "$P/share/man/man5/kindlint-rules.5"
check "bash completion" test -f "$P/share/bash-completion/completions/kindlint"
check "zsh completion" test -f "$P/share/zsh/site-functions/_kindlint"
PC=$(dirname "$(find "$P" -name kindlint.pc | head -n 1)")
check "kindlint.pc" test -f "$PC/kindlint.pc"
version=$("$P/bin/kindlint" --version)
check "--version from the project version" test "$version" = "kindlint $(sed -n 's/^project(kindlint VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")"
flags=$(PKG_CONFIG_PATH="$PC" pkg-config --cflags --libs --static kindlint)
check "pkg-config knows it" test -n "$flags"
# shellcheck disable=SC2086
"$CC" -std=c11 -o "$T/hello" "$SRC/tests/install/hello.c" $flags > "$T/cc.log" 2>&1
check "a program builds against it" test $? -eq 0 || cat "$T/cc.log"
out=$("$T/hello" 2>&1)
check "and runs" test "$(printf '%s\n' "$out" | head -n 1)" = "you-never: I feel hurt when you don't call"
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }

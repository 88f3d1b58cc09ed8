#!/bin/sh
# man/test_man.sh — the manual pages say what the programs do (TAP, run by
# `make check` from the top build directory):
#   - every long option a program's --help prints is in its page, and every
#     long option its page names is in --help;
#   - the commands of agora-admin and the jobs of agora-worker likewise;
#   - every key of lib/config/config_keys.h is in agora.conf(5) and in --help,
#     the page names no other key, and each key's default there is the one
#     --help prints (the programs' own table);
#   - groff formats every page without a warning.
srcdir=${srcdir:-.}
n=0
fail=0
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
# a page as text: roff's escaped hyphens and font changes undone
man_text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$1"; }
long_options() { grep -o -e '--[a-z][a-z-]*' | sort -u; }
# items of one .SH section: the first word after each .TP
section_items() { # page section
    man_text "$1" | awk -v s="$2" '
        /^\.SH / { on = ($2 == s); next }
        on && /^\.TP/ { item = 1; next }
        on && item { gsub(/"/, "", $2); print $2; item = 0 }' | sort -u
}
# a sorted list of the words of a --help section (lines "  word ...")
help_items() { # file first-heading
    awk -v h="$2" '$0 == h { on = 1; next } /^[A-Z]/ { on = 0 } on && /^  [a-z]/ { print $1 }' "$1" | sort -u
}
same_set() { # what a b: ok when the sorted lists a and b are equal
    if d=$(comm -3 "$2" "$3") && [ -z "$d" ]; then
        ok "$1"
    else
        not_ok "$1"
        echo "$d" | sed 's/^/#   only in one: /'
    fi
}

for p in fcgi/agora.fcgi wsd/agora-wsd workers/agora-worker admin/agora-admin; do
    name=${p#*/}
    page=man/$name.8
    if ! ./$p --help >"$tmp/$name.help" 2>&1; then
        not_ok "$name --help exits 0"
        continue
    fi
    long_options <"$tmp/$name.help" >"$tmp/a"
    man_text "$page" | long_options >"$tmp/b"
    same_set "$name: the long options of --help and of $page" "$tmp/a" "$tmp/b"
done

help_items "$tmp/agora-admin.help" "Commands:" >"$tmp/a"
section_items man/agora-admin.8 COMMANDS >"$tmp/b"
[ -s "$tmp/a" ] || not_ok "agora-admin --help lists commands"
same_set "agora-admin: the commands of --help and of its page" "$tmp/a" "$tmp/b"
help_items "$tmp/agora-worker.help" "Jobs:" >"$tmp/a"
section_items man/agora-worker.8 JOBS >"$tmp/b"
[ -s "$tmp/a" ] || not_ok "agora-worker --help lists jobs"
same_set "agora-worker: the jobs of --help and of its page" "$tmp/a" "$tmp/b"

sed -n 's/^ *X(\([a-z0-9_]*\),.*/\1/p' "$srcdir/lib/config/config_keys.h" | sort -u >"$tmp/keys"
section_items man/agora.conf.5 KEYS >"$tmp/b"
[ -s "$tmp/keys" ] || not_ok "config_keys.h has keys"
same_set "every key of config_keys.h is in agora.conf(5), and only those" "$tmp/keys" "$tmp/b"
sed -n "s/^  \([a-z0-9_]*\) .*, default '\([^']*\)': .*/\1 \2/p" "$tmp/agora-admin.help" \
    | sort >"$tmp/help-defaults"
cut -d' ' -f1 "$tmp/help-defaults" >"$tmp/a"
same_set "every key of config_keys.h is in --help" "$tmp/keys" "$tmp/a"
man_text man/agora.conf.5 | awk '
    /^\.SH / { on = ($2 == "KEYS"); next }
    on && /^\.B / { key = $2; next }
    on && key && /; default / {
        d = $0; sub(/.*; default /, "", d); sub(/; environment .*/, "", d)
        if (d == "empty") d = ""
        print key " " d; key = "" }' | sort >"$tmp/man-defaults"
same_set "each key's default in agora.conf(5) is the one --help prints" \
    "$tmp/help-defaults" "$tmp/man-defaults"

for page in man/agora.conf.5 man/agora.fcgi.8 man/agora-wsd.8 man/agora-worker.8 man/agora-admin.8; do
    if ! command -v groff >/dev/null 2>&1; then
        n=$((n + 1)); echo "ok $n - $page formats # SKIP groff is not installed"
        continue
    fi
    w=$(groff -k -man -ww -z -Tutf8 "$page" 2>&1)
    if [ -z "$w" ]; then ok "$page formats without warnings"; else not_ok "$page: $w"; fi
done

echo "1..$n"
exit $fail

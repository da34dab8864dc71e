#!/usr/bin/env bash
# Builds the public English corpus that the demo model is pre-trained on (non-privately), from text
# that is public and has nothing to do with the private E2E data:
#   - tiny Shakespeare (Karpathy's char-rnn input.txt; public domain), given as the first argument;
#   - the Debian Reference manual, Debian package debian-reference-en (GPL-2+): its plain-text
#     edition, tables and command lines dropped;
#   - definitions from GCIDE, the GNU Collaborative International Dictionary of English, Debian
#     package dict-gcide (GPL-3+): one entry in SKIP (default 6) so the sample spans A to Z,
#     headwords, etymologies and source tags dropped.
#
#   apps/finetune/scripts/make-public-corpus.sh PATH/TO/tinyshakespeare.txt OUT.txt
#
# Needs apt-get (to download the two packages; nothing is installed) and dpkg-deb.
set -euo pipefail

SHAKESPEARE=${1:?usage: make-public-corpus.sh PATH/TO/tinyshakespeare.txt OUT.txt}
OUT=${2:?usage: make-public-corpus.sh PATH/TO/tinyshakespeare.txt OUT.txt}
SKIP=${SKIP:-6}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clipwise-corpus-XXXXXX")
(cd "$WORK" && apt-get download debian-reference-en dict-gcide >/dev/null)
dpkg-deb -x "$WORK"/debian-reference-en_*.deb "$WORK/x"
dpkg-deb -x "$WORK"/dict-gcide_*.deb "$WORK/x"

{
  cat "$SHAKESPEARE"
  printf '\n\n'
  # prose lines only: no table rows (|, +---), no shell prompts, at least a few words
  zcat "$WORK/x/usr/share/debian-reference/debian-reference.en.txt.gz" |
    grep -v -E '^\s*[|+]|[|]\s*$|^\s*\$ |^\s*# |^\s*-{3,}|^\s*={3,}' |
    awk 'NF >= 4 || NF == 0' | sed -E 's/^ +//' | cat -s
  printf '\n\n'
  # GCIDE: paragraphs (entries) of indented definition lines, [source] tags and {markup} braces removed
  zcat "$WORK/x/usr/share/dictd/gcide.dict.dz" |
    awk -v skip="$SKIP" '
      /^[^ ]/ { entry++; if (buf != "") { if (entry % skip == 0) print buf "\n"; buf = "" } next }
      /^   / { line = $0; sub(/^ +/, "", line); gsub(/\[[^]]*\]/, "", line); gsub(/[{}]/, "", line);
              if (line ~ /^(Syn:|Note:|--)/ || line ~ /^ *$/) next; buf = (buf == "" ? line : buf " " line) }
    ' | sed -E 's/ +/ /g; s/ --[A-Z][A-Za-z. ]*//g'
} > "$OUT"
rm -rf "$WORK"
echo "wrote $OUT ($(wc -c < "$OUT") bytes)"

#!/usr/bin/env bash
# Remakes the seed corpora and minimises them into fuzz/corpus/<target>/ (cargo fuzz cmin).
# Needs the ncpeh binary (NCPEH=path, default target/debug/ncpeh) for the SAML seeds, the shared
# folder (NCPEH_SHARED, default ../shared), cargo-fuzz and a nightly toolchain.
#
# The signed assertions chain to fuzz/xua-anchor.pem, a throw-away issuer whose key is deleted
# when this script ends. With --new-anchor the issuer is made anew and the anchor replaced; the
# xua corpus then needs the same run, or its old assertions only reach the untrusted path.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${NCPEH_SHARED:-$(cd .. && pwd)/shared}"
ncpeh="${NCPEH:-target/debug/ncpeh}"
new_anchor=0
[ "${1:-}" = "--new-anchor" ] && new_anchor=1

work=$(mktemp -d /tmp/ncpeh-fuzz-seed.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/issued"

if [ ! -f fuzz/xua-anchor.pem ] || [ "$new_anchor" = 1 ]; then
  "$ncpeh" pki init --out "$work/pki" >/dev/null
  issuer_cert="$work/pki/issuer-no.pem"
  issuer_key="$work/pki/issuer-no.key"
  cp "$issuer_cert" fuzz/xua-anchor.pem
  # A year of validity: entries::XUA_NOW (2027-01-01) falls inside it.
  valid=$((365 * 24 * 3600))
  issue() { "$ncpeh" xua issue --issuer-cert "$issuer_cert" --issuer-key "$issuer_key" \
              --valid-for "$valid" --country NO "$@" >/dev/null; }
  issue --out "$work/issued/hcp.xml" --audience urn:oid:2.16.578.1.12.4.5.10.1
  issue --out "$work/issued/hcp-trc.xml" --patient '21014605158^^^&2.16.578.1.12.4.1.4.1&ISO'
  issue --out "$work/issued/pharmacist.xml" --role 2262 --purpose EMERGENCY --permissions PRD-004,PPD-046
  # Every variant of XUA-VARIANTS.txt, as Defect::ALL names them.
  defects=$(python3 -c 'import re,sys; print(*re.findall(r"\(\s*\"([a-z0-9]+)\",\s*Defect::", open(sys.argv[1]).read()))' src/saml/issue.rs)
  for d in $defects; do
    issue --out "$work/issued/defect-$d.xml" --patient '21014605158^^^&2.16.578.1.12.4.1.4.1&ISO' --defect "$d"
  done
else
  echo "fuzz/xua-anchor.pem exists and its key is gone: no new signed assertions (--new-anchor makes them)"
fi

python3 fuzz/seed.py "$shared" "$work/seeds" "$work/issued"

cd fuzz
for dir in "$work"/seeds/*/; do
  t=$(basename "$dir")
  mkdir -p "corpus/$t"
  # The seeds join what is already committed; cmin keeps only inputs that add coverage.
  cp "$dir"/* "corpus/$t/"
  cargo +nightly fuzz cmin "$t" -- -rss_limit_mb=512 -timeout=5 -use_counters=0 >/dev/null 2>"$work/cmin-$t.log" \
    || { echo "cmin $t failed:"; tail -n 20 "$work/cmin-$t.log"; exit 1; }
  echo "$t: $(ls "corpus/$t" | wc -l) inputs, $(du -sk "corpus/$t" | cut -f1) KiB"
done
